"""Sync projects from their customers' Qlik Cloud tenants, in the foreground."""

from django.core.management.base import CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from atlas.commands import TenantCommand
from atlas.rls import acting_as
from customers.models import Project
from customers.selectors import project_list
from qlik.models import QlikSyncRun
from qlik.services import SyncAlreadyRunning, qlik_project_sync


class Command(TenantCommand):
    help = "Sync one project (--project ID) or all (--all) from Qlik Cloud; exit 1 if any failed."
    single_transaction = False

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--project", type=int, metavar="ID")
        which.add_argument("--all", action="store_true", help="every project the actor may see")
        parser.add_argument("--full", action="store_true", help="refetch every app, not only changed ones")

    def handle(self, *args, **options):
        console = Console(file=self.stdout, stderr=False)
        with acting_as(self.actor):
            projects = list(project_list())
        if options["project"] is not None:
            projects = [p for p in projects if p.pk == options["project"]]
            if not projects:
                raise CommandError(f"No project {options['project']} visible to {self.actor}.")
        runs = [self._sync(project, options["full"], console) for project in projects]
        console.print(_summary(runs))
        for run in runs:
            for line in (run.notes or "").splitlines():
                console.print(f"{run.project}: {line}", highlight=False, markup=False)
        failed = [run for run in runs if run.status != QlikSyncRun.Status.SUCCEEDED]
        if failed:
            raise CommandError(f"{len(failed)} of {len(runs)} syncs failed.")

    def _sync(self, project: Project, full: bool, console: Console) -> QlikSyncRun:
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}"),
        )
        with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as bar:
            phases = {}

            def progress(phase: str, done: int, total: int | None) -> None:
                if phase not in phases:
                    phases[phase] = bar.add_task(f"{project} · {phase}", total=total)
                bar.update(phases[phase], completed=done, total=total)

            try:
                return qlik_project_sync(project=project, actor=self.actor, full=full, progress=progress)
            except SyncAlreadyRunning as exc:
                raise CommandError(str(exc))


def _summary(runs: list[QlikSyncRun]) -> Table:
    table = Table(title="Qlik sync")
    for column in (
        "project",
        "status",
        "spaces",
        "apps",
        "connections",
        "scripts",
        "calls",
        "calls/app",
        "429s",
        "apps with problems",
        "error",
    ):
        table.add_column(column)
    for run in runs:
        counts = run.counts or {}
        table.add_row(
            str(run.project),
            run.status,
            str(counts.get("qlik_spaces", "-")),
            str(counts.get("qlik_apps", "-")),
            str(counts.get("qlik_data_connections", "-")),
            str(counts.get("qlik_app_scripts", "-")),
            str(run.api_calls),
            str(run.calls_per_app or "-"),
            str(run.rate_limited),
            str(run.apps_with_problems),
            run.error[:120],
        )
    return table
