"""Serve a fake Qlik Cloud tenant (for the demo, tests and benchmarks) until interrupted."""

from django.core.management.base import BaseCommand

from qlik.fake_tenant import FakeEstate, FakeQlikTenant


class Command(BaseCommand):
    help = "Run a deterministic fake Qlik Cloud tenant on 127.0.0.1."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--apps", type=int, default=50)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--api-key", default="fake-key")
        parser.add_argument("--rate-limit", type=int, default=0, help="requests per minute (Tier 1: 1000)")
        parser.add_argument("--slow", type=float, default=0.0, help="seconds before each answer")

    def handle(self, *args, **options):
        tenant = FakeQlikTenant(
            FakeEstate(seed=options["seed"], apps=options["apps"]),
            api_key=options["api_key"],
            port=options["port"],
        )
        tenant.switches.requests_per_minute = options["rate_limit"]
        tenant.switches.slow_seconds = options["slow"]
        self.stdout.write(f"Fake Qlik tenant with {options['apps']} apps at {tenant.url} (Ctrl-C stops it)")
        try:
            tenant.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            tenant.stop()
