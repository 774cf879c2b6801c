"""Load a project's Qlik metadata from exported JSON files (no API key needed)."""

from django.core.management.base import CommandError

from atlas.commands import TenantCommand
from atlas.rls import acting_as
from customers.selectors import project_list
from qlik.artifacts import ArtifactError
from qlik.models import QlikSyncRun
from qlik.services import SyncAlreadyRunning, qlik_artifacts_import


class Command(TenantCommand):
    help = "Import JSON files shaped like Qlik API responses (qlik-cli exports) into a project."
    single_transaction = False

    def add_arguments(self, parser):
        parser.add_argument("--project", type=int, required=True, metavar="ID")
        parser.add_argument("directory", help="spaces.json, items.json, data-connections.json, scripts/ ...")

    def handle(self, *args, **options):
        with acting_as(self.actor):
            project = project_list().filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"No project {options['project']} visible to {self.actor}.")
        try:
            run = qlik_artifacts_import(project=project, directory=options["directory"], actor=self.actor)
        except (ArtifactError, SyncAlreadyRunning) as exc:
            raise CommandError(str(exc))
        if run.status != QlikSyncRun.Status.SUCCEEDED:
            raise CommandError(f"Import into {project} failed: {run.error}")
        counts = ", ".join(f"{table} {count}" for table, count in run.counts.items())
        self.stdout.write(f"Imported into {project} (run #{run.pk}): {counts}")
