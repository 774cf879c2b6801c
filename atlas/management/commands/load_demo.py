"""Load the demo customers, synced from fake Qlik tenants (and, embedded, the demo users)."""

from django.conf import settings

from atlas.commands import TenantCommand
from atlas.demo import demo_load, demo_tenants_start


class Command(TenantCommand):
    help = "Create Acme Analytics and Globex Retail and sync them from fake tenants (once)."
    single_transaction = False

    def add_arguments(self, parser):
        parser.add_argument("--fake-port", type=int, default=8765, help="first port of the fake tenants")

    def handle(self, *args, **options):
        tenants = demo_tenants_start(base_port=options["fake_port"])
        try:
            runs = demo_load(actor=self.actor, base_port=options["fake_port"])
        finally:
            for tenant in tenants:
                tenant.stop()
        for run in runs:
            self.stdout.write(f"Synced {run.project}: {run.status} {run.counts or run.error}")
        if not runs:
            self.stdout.write("Demo data already present.")
        if settings.ATLAS_EMBEDDED_DB:
            self.stdout.write(
                "Demo logins (password from ATLAS_DEMO_PASSWORD, default 'demo'): "
                "admin (superuser), support (staff, Acme only), consultant (Acme only)."
            )
