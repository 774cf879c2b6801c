"""Benchmark the health board and /api/v1/health/ at 5 and 500 projects.

In-process (Django's test client, the whole middleware stack and RLS as the runtime role):
median and p95 over repeated requests, SQL queries per request at both sizes (they must be
equal), and the ratio of 500 projects to 5. The last line is `BENCH-RESULT {json}`.
"""

import json
import statistics
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from atlas.bench import percentile, statistics_refresh
from atlas.rls import acting_as
from customers.models import User
from health.bench import health_estate_create, health_estate_delete
from qlik.models import QlikAppUsage, QlikSyncRun

SIZES = {5: (1, 5), 500: (50, 10)}  # projects: (customers, projects per customer)
STATIC_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"
PATHS = {"board": "/admin/health/", "api": "/api/v1/health/"}


class Command(BaseCommand):
    help = "Time the health board and its API at 5 and 500 projects; queries per request."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=40)

    # No DEBUG, as in production; plain static storage, since nothing was collected.
    @override_settings(
        ALLOWED_HOSTS=["testserver"],
        DEBUG=False,
        STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_STORAGE}},
    )
    def handle(self, *args, requests, **options):
        system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
        User.objects.filter(username="bench-health").delete()
        user = User.objects.create_superuser(username="bench-health", password=None)
        client = Client()
        client.force_login(user)
        result, made = {}, []
        try:
            for size, (customers, per_customer) in SIZES.items():
                with acting_as(system):
                    made += health_estate_create(
                        tag=f"bench-health-{size}", customers=customers, projects_per_customer=per_customer
                    )
                statistics_refresh(QlikSyncRun, QlikAppUsage)
                for name, path in PATHS.items():
                    client.get(path)  # warm
                    queries = []

                    def count(execute, sql, params, many, context, queries=queries):
                        queries.append(sql)
                        return execute(sql, params, many, context)

                    # An execute wrapper outlives the connection the request closes at its end.
                    with connection.execute_wrapper(count):
                        status = client.get(path).status_code
                    if status != 200:
                        raise CommandError(f"{path} answered {status}")
                    timings = []
                    for _ in range(requests):
                        started = time.perf_counter()
                        client.get(path)
                        timings.append((time.perf_counter() - started) * 1000)
                    result[f"{name}_{size}"] = {
                        "p50_ms": round(statistics.median(timings), 1),
                        "p95_ms": round(percentile(timings, 0.95), 1),
                        "queries": len(queries),
                    }
                    self.stdout.write(
                        f"{name:5} {size:3} projects (+ earlier sizes' rows): {result[f'{name}_{size}']}"
                    )
        finally:
            with acting_as(system):
                health_estate_delete(customers=made)
            user.delete()
        for name in PATHS:
            small, large = result[f"{name}_5"], result[f"{name}_500"]
            result[f"{name}_ratio_500_to_5"] = round(large["p50_ms"] / small["p50_ms"], 2)
            result[f"{name}_queries_equal"] = small["queries"] == large["queries"]
            self.stdout.write(
                f"{name}: p50 500 ÷ 5 projects = {result[f'{name}_ratio_500_to_5']}, "
                f"queries {small['queries']} → {large['queries']}, p95 at 500: {large['p95_ms']} ms "
                f"({large['p95_ms'] / 1000:.2f} of the one-second limit)"
            )
        self.stdout.write("BENCH-RESULT " + json.dumps(result, sort_keys=True))
