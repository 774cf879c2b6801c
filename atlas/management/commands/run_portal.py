"""Run the whole portal in the foreground: fake Qlik tenants, demo data, a worker, the web."""

import subprocess
import sys

from django.core.management.base import BaseCommand

from atlas.demo import demo_load, demo_tenants_start
from customers.models import User


class Command(BaseCommand):
    help = "Serve the demo tenants, sync the demo once, then run a worker and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--fake-port", type=int, default=8765)

    def handle(self, *args, **options):
        from django.conf import settings

        tenants = demo_tenants_start(base_port=options["fake_port"])
        children = []
        try:
            system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
            for run in demo_load(actor=system, base_port=options["fake_port"]):
                self.stdout.write(f"Synced {run.project}: {run.status} {run.counts or run.error}")
            manage = [sys.executable, "manage.py"]
            # Children get a process group of their own, so the terminal's Ctrl-C reaches this
            # process alone and it stops them in order — not them mid-start with a traceback.
            background = {"process_group": 0}
            children.append(subprocess.Popen([*manage, "procrastinate", "worker"], **background))  # noqa: S603
            self.stdout.write(
                f"\n  qlik_atlas is up:  http://127.0.0.1:{options['port']}/admin/\n"
                "  logins: admin / support / consultant, password $ATLAS_DEMO_PASSWORD (default: demo)\n"
                f"  fake Qlik tenants: {', '.join(t.url for t in tenants)}\n"
                "  Ctrl-C stops the web server, the worker, the tenants and the embedded database.\n"
            )
            web = subprocess.Popen(  # noqa: S603
                [*manage, "runserver", "--noreload", f"127.0.0.1:{options['port']}"], **background
            )
            children.append(web)
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=30)
            for tenant in tenants:
                tenant.stop()
