"""Serve a fake Qlik Cloud tenant (for the demo, tests and benchmarks) until interrupted."""

from django.core.management.base import BaseCommand

from qlik.fake_tenant import FakeEstate, FakeQlikTenant, Switches


class Command(BaseCommand):
    help = "Run a deterministic fake Qlik Cloud tenant on 127.0.0.1."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--apps", type=int, default=50)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--api-key",
            action="append",
            dest="api_keys",
            help="an accepted key (repeatable; default fake-key)",
        )
        parser.add_argument("--rate-limit", type=int, default=0, help="requests per minute (Tier 1: 1000)")
        parser.add_argument("--slow", type=float, default=0.0, help="seconds before each answer")
        parser.add_argument(
            "--real",
            action="store_true",
            help="answer like a real tenant: per-app 403s and 404s, a ghost app, spaces without links, "
            "missing itemViews, Retry-After as a date (Switches.like_a_real_tenant)",
        )

    def handle(self, *args, **options):
        tenant = FakeQlikTenant(
            FakeEstate(seed=options["seed"], apps=options["apps"]),
            api_keys=options["api_keys"] or ["fake-key"],
            port=options["port"],
        )
        if options["real"]:
            tenant.switches = Switches.like_a_real_tenant()
        tenant.switches.requests_per_minute = options["rate_limit"]
        tenant.switches.slow_seconds = options["slow"]
        mode = " answering like a real tenant" if options["real"] else ""
        self.stdout.write(
            f"Fake Qlik tenant with {options['apps']} apps at {tenant.url}{mode} (Ctrl-C stops it)"
        )
        try:
            tenant.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            tenant.stop()
