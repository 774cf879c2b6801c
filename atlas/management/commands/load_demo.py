"""Load the demo customers (and, on the embedded database, the demo users) once."""

from django.conf import settings

from atlas.commands import TenantCommand
from atlas.demo import demo_load


class Command(TenantCommand):
    help = "Load the demo customers Acme Analytics and Globex Retail (once)."

    def handle(self, *args, **options):
        loaded = demo_load()
        self.stdout.write("Demo data loaded." if loaded else "Demo data already present.")
        if settings.ATLAS_EMBEDDED_DB:
            self.stdout.write(
                "Demo logins (password from ATLAS_DEMO_PASSWORD, default 'demo'): "
                "admin (superuser), support (staff, Acme only), consultant (Acme only)."
            )
