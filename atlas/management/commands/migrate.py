"""`migrate`, run as the owner role (DATABASE_OWNER_URL) whatever the runtime URL is."""

from django.core.management.commands import migrate

from atlas.db_roles import connected_as_owner


class Command(migrate.Command):
    def handle(self, *args, **options):
        with connected_as_owner(options["database"]):
            return super().handle(*args, **options)
