"""Prepare the database: roles, database, grants and migrations, idempotently."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from atlas import db_roles


class Command(BaseCommand):
    help = (
        "Create/correct the owner and runtime roles and the database (where an admin URL is "
        "given, always for the embedded server), grant the runtime role, and migrate as owner."
    )

    def handle(self, *args, **options):
        for line in db_roles.roles_bootstrap():
            self.stdout.write(line)
        db_roles.runtime_privileges_grant()
        call_command("migrate", interactive=False, verbosity=max(0, options["verbosity"] - 1))
        db_roles.runtime_privileges_grant()
        self.stdout.write(self.style.SUCCESS("Database ready."))
