"""Benchmark the read API and the dashboard on a project of 10,000 apps.

The portal runs under gunicorn in its own processes; this process is the clients. Also
measured in the same run: SQL queries per request at two sizes (they must not differ),
and the apps list query as the runtime role under RLS against the cluster admin, who
bypasses RLS, to price the policies. Raw SQL outside a migration, on purpose: the admin
baseline runs the very statement Django generated, unchanged.

The machine is shared: a request that fails (an answer other than 200, a connection reset,
a timeout) is counted and reported beside the figures, never retried in the timed loop,
and the bench fails only when failures exceed --max-error-share of a scenario's requests.
"""

import json
import math
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from rich.console import Console
from rich.table import Table

from atlas import db_roles
from atlas.bench import percentile, scratch_project, statistics_refresh
from atlas.rls import acting_as
from customers.models import User
from customers.services import access_grant, api_token_create
from qlik.models import QlikApp, QlikAppScript, QlikAppUsage, QlikSpace
from qlik.selectors import app_list
from qlik.services import QlikSnapshot, qlik_snapshot_replace

CLASSES = ("active", "low_use", "unused", "never_reloaded")
SERVER_ENV = {"ALLOWED_HOSTS": "127.0.0.1,localhost", "ATLAS_API_RATE": "1000000/min", "ATLAS_DEBUG": "false"}
# gunicorn closes a keep-alive connection idle for 2 s; the clients drop theirs sooner, so a
# request is never sent on a connection the server is closing at that moment (a reset).
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=1.0)
REQUEST_TIMEOUT = 60
SETUP_ATTEMPTS = 3


def estate(apps: int) -> QlikSnapshot:
    rng = random.Random(apps)  # noqa: S311
    spaces = [
        {"id": f"space-{n}", "name": f"Space {n}", "type": "shared"} for n in range(max(1, apps // 100))
    ]
    guids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(apps)]
    return QlikSnapshot(
        spaces=spaces,
        apps=[
            {
                "item": {
                    "resourceId": guid,
                    "name": f"{rng.choice(['Sales', 'Finance', 'Stock', 'Churn'])} app {n}",
                    "spaceId": spaces[n % len(spaces)]["id"],
                    "ownerId": f"user-{n % 50}",
                    "resourceReloadStatus": "ok",
                }
            }
            for n, guid in enumerate(guids)
        ],
        data_connections=[{"id": f"conn-{n}", "qName": f"Conn {n}", "qType": "folder"} for n in range(20)],
        usage=[
            {
                "appId": guid,
                "appName": guid,
                "usageClassification": CLASSES[n % 4],
                "usageAppOpens": n % 37,
                "usageSheetViews": n % 11,
                "usageLastViewedAt": f"2026-11-{1 + n % 20:02d}T10:00:00Z",
                "usageLastReloadAt": f"2026-10-{1 + n % 28:02d}T10:00:00Z",
            }
            for n, guid in enumerate(guids)
        ],
    )


class Command(BaseCommand):
    help = "Throughput and p50/p95 of the apps API and the dashboard, queries per request, RLS overhead."

    def add_arguments(self, parser):
        parser.add_argument("--apps", type=int, default=10_000)
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--requests", type=int, default=400, help="per scenario")
        parser.add_argument("--port", type=int, default=8795)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--max-error-share",
            type=float,
            default=0.02,
            help="fail when more than this share of a scenario's requests fail (default 2%%)",
        )

    def handle(self, *args, **options):
        if not settings.ATLAS_ADMIN_DATABASE:
            raise CommandError("The RLS baseline needs DATABASE_ADMIN_URL (the embedded database has one).")
        console = Console(file=self.stdout, width=130)
        # The portal as in production (no DEBUG): its static files collected, as gunicorn serves them.
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], check=True)
        system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
        with acting_as(system):
            User.objects.filter(username="bench-api").delete()
        user = User.objects.create_user("bench-api")
        try:
            with (
                scratch_project(actor=system, name="bench-api-small") as small,
                scratch_project(actor=system, name="bench-api-large") as large,
            ):
                with acting_as(system):
                    qlik_snapshot_replace(project=small, snapshot=estate(100))
                    qlik_snapshot_replace(project=large, snapshot=estate(options["apps"]))
                    for project in (small, large):
                        access_grant(user=user, customer=project.customer)
                statistics_refresh(QlikApp, QlikAppUsage, QlikAppScript, QlikSpace)
                _, key = api_token_create(user=user, name="bench")
                queries = self._queries_per_request(user, small, large)
                rls = self._rls_overhead(user, large)
                load = self._load(large, user, key, options)
        finally:
            with acting_as(system):
                user.delete()
        self._report(console, options, queries, rls, load)

    # --- SQL per request ----------------------------------------------------------------------

    @override_settings(ALLOWED_HOSTS=["localhost"])
    def _queries_per_request(self, user, small, large) -> dict:
        client = Client()
        client.force_login(user)
        counts = {}
        for name, path in (
            ("apps list", "/api/v1/projects/{}/apps/"),
            ("apps list, filtered", "/api/v1/projects/{}/apps/?usage=unused&name=sales"),
            ("dashboard", "/projects/{}/"),
        ):
            for project in (small, large):
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(path.format(project.pk), HTTP_HOST="localhost")
                if response.status_code != 200:
                    raise CommandError(f"{path} answered {response.status_code}")
                counts.setdefault(name, []).append(len(captured))
        return counts

    # --- RLS overhead ---------------------------------------------------------------------------

    def _rls_overhead(self, user, project, rounds: int = 200) -> dict:
        """Medians of the same statements as the runtime role (RLS) and as the admin (none).

        Both sides go through the same driver, cursor class, loaders and planning mode (the
        runtime side's psycopg connection is Django's own; the admin's copies its settings),
        the identity set before the clock starts, as `acting_as` sets it. Each round is one
        transaction per side running the statement twice: the second run is the statement's
        own price under the policies (a request runs several statements in its transaction);
        the first also pays, once per transaction, for computing the identity's visible
        projects (customers 0011), reported beside it. Timing Django's cursor wrapper on one
        side only would price the wrapper (about 0.3 ms a statement here) as RLS.
        """
        with acting_as(user):
            statements = {
                "apps list, first page": app_list(project=project)[:100],
                "apps list, filtered": app_list(project=project).filter(usage_classification="unused")[:100],
            }
            statements = {name: qs.query.sql_with_params() for name, qs in statements.items()}
        connection.ensure_connection()
        runtime = connection.connection
        admin = db_roles._conninfo(settings.ATLAS_ADMIN_DATABASE, settings.DATABASES["default"]["NAME"])

        def twice(cursor, sql, params) -> tuple[float, float, int]:
            started = time.perf_counter()
            cursor.execute(sql, params)
            rows = len(cursor.fetchall())
            first = time.perf_counter() - started
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            return first, time.perf_counter() - started, rows

        results = {}
        with psycopg.connect(
            admin,
            cursor_factory=runtime.cursor_factory,
            prepare_threshold=runtime.prepare_threshold,
            context=runtime,  # Django's loaders and dumpers (its time zone's, JSON as text)
        ) as conn:
            for name, (sql, params) in statements.items():
                times = {"rls": [], "admin": [], "rls_first": [], "admin_first": []}
                for _ in range(rounds):
                    with acting_as(user), runtime.cursor() as cursor:
                        first, again, rows_rls = twice(cursor, sql, params)
                    times["rls_first"].append(first)
                    times["rls"].append(again)
                    with conn.transaction(), conn.cursor() as cursor:
                        first, again, rows_admin = twice(cursor, sql, params)
                    times["admin_first"].append(first)
                    times["admin"].append(again)
                if rows_rls != rows_admin:
                    raise CommandError(f"{name}: RLS answered {rows_rls} rows, the admin {rows_admin}")
                results[name] = {side: statistics.median(values) for side, values in times.items()}
        return results

    # --- load from clients ------------------------------------------------------------------------

    def _load(self, project, user, key: str, options) -> dict:
        env = {**os.environ, **SERVER_ENV}
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], check=True, env=env
        )
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable, "-m", "gunicorn", "atlas.wsgi",
                "--bind", f"127.0.0.1:{options['port']}",
                "--workers", str(options["workers"]), "--threads", "4", "--log-level", "warning",
            ],
            env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{options['port']}"
        try:
            self._wait(base)
            api = f"{base}/api/v1/projects/{project.pk}/apps/"
            headers = {"Authorization": f"Token {key}"}
            deep = self._deep_pages(api, headers)
            browser = self._logged_in(user)
            scenarios = {
                "apps, first page": lambda c: c.get(api, headers=headers),
                "apps, filtered": lambda c: c.get(f"{api}?usage=unused&name=sales", headers=headers),
                "apps, deep pages (last 40%)": lambda c: c.get(random.choice(deep), headers=headers),  # noqa: S311
                "dashboard": lambda c: c.get(f"{base}/projects/{project.pk}/", cookies=browser),
            }
            return {name: self._drive(call, options) for name, call in scenarios.items()}
        finally:
            server.terminate()
            server.wait()

    def _wait(self, base: str) -> None:
        for _ in range(100):
            try:
                httpx.get(f"{base}/accounts/login/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise CommandError("gunicorn did not start")

    def _deep_pages(self, api: str, headers: dict) -> list[str]:
        """Cursor URLs of the last 40% of the pages (100 apps each), found by walking them once.

        Set-up, not measured: a page that fails is asked again (up to SETUP_ATTEMPTS times)."""
        urls, url = [], f"{api}?page_size=100"
        with httpx.Client(timeout=REQUEST_TIMEOUT, limits=CLIENT_LIMITS) as client:
            while url:
                urls.append(url)
                for attempt in range(1, SETUP_ATTEMPTS + 1):
                    try:
                        url = client.get(url, headers=headers).raise_for_status().json()["next"]
                        break
                    except httpx.HTTPError as exc:
                        if attempt == SETUP_ATTEMPTS:
                            raise CommandError(f"walking the pages failed {attempt} times: {exc!r}") from exc
                        time.sleep(1)
        return urls[int(len(urls) * 0.6) :]

    def _logged_in(self, user) -> dict:
        """A browser session of `user` (made here: production cookies are Secure-only, no TLS here)."""
        client = Client()
        client.force_login(user)
        return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}

    def _drive(self, call, options) -> dict:
        """`options["requests"]` calls from `options["clients"]` threads; latencies of the
        answered ones (200), and the failed ones counted by kind, never raised."""
        latencies: list[float] = []
        errors = {"non_200": 0, "resets": 0, "timeouts": 0, "other": 0}
        seen: list[str] = []
        lock = threading.Lock()

        def failed(kind: str, what: str) -> None:
            with lock:
                errors[kind] += 1
                seen.append(what)

        def one(client):
            started = time.perf_counter()
            try:
                response = call(client)
            except httpx.TimeoutException as exc:
                failed("timeouts", repr(exc))
                return
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.ConnectError) as exc:
                failed("resets", repr(exc))  # the connection was closed or refused under us
                return
            except httpx.HTTPError as exc:
                failed("other", repr(exc))
                return
            elapsed = time.perf_counter() - started
            if response.status_code == 200:
                latencies.append(elapsed)
            else:
                failed("non_200", f"HTTP {response.status_code}")

        clients = [
            httpx.Client(timeout=REQUEST_TIMEOUT, limits=CLIENT_LIMITS) for _ in range(options["clients"])
        ]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=options["clients"]) as pool:
            list(pool.map(lambda n: one(clients[n % len(clients)]), range(options["requests"])))
        wall = time.perf_counter() - started
        for client in clients:
            client.close()
        failures = sum(errors.values())
        return {
            "throughput": len(latencies) / wall,
            "p50": percentile(latencies, 0.5) if latencies else float("nan"),
            "p95": percentile(latencies, 0.95) if latencies else float("nan"),
            "requests": options["requests"],
            "failed": failures,
            "error_share": failures / options["requests"],
            "errors": errors,
            "examples": sorted(set(seen))[:3],
        }

    def _report(self, console, options, queries, rls, load) -> None:
        title = f"bench-api: {options['apps']:,} apps, {options['clients']} concurrent clients"
        table = Table(title=f"{title}, gunicorn {options['workers']} workers x 4 threads")
        for column in (
            "scenario",
            "requests/s (200)",
            "p50",
            "p95",
            "non-200",
            "resets",
            "timeouts",
            "other",
        ):
            table.add_column(column, justify="right")
        for name, result in load.items():
            table.add_row(
                name,
                f"{result['throughput']:.0f}",
                f"{result['p50'] * 1000:.0f} ms",
                f"{result['p95'] * 1000:.0f} ms",
                *(str(result["errors"][kind]) for kind in ("non_200", "resets", "timeouts", "other")),
            )
        console.print(table)
        for name, result in load.items():
            if result["examples"]:
                console.print(f"{name}: failed requests, e.g. {'; '.join(result['examples'])}")
        counts = Table(title="SQL queries per request")
        for column in ("request", "100 apps", f"{options['apps']:,} apps"):
            counts.add_column(column, justify="right")
        for name, (small, large) in queries.items():
            counts.add_row(name, str(small), str(large))
        console.print(counts)
        overhead = Table(title="RLS overhead: the same statement, runtime role under RLS vs admin without")
        for column in ("statement", "with RLS", "without", "ratio", "first of its transaction: ratio"):
            overhead.add_column(column, justify="right")
        for name, result in rls.items():
            overhead.add_row(
                name,
                f"{result['rls'] * 1000:.2f} ms",
                f"{result['admin'] * 1000:.2f} ms",
                f"{result['rls'] / result['admin']:.2f}",
                f"{result['rls_first'] / result['admin_first']:.2f} "
                f"({result['rls_first'] * 1000:.2f} / {result['admin_first'] * 1000:.2f} ms)",
            )
        console.print(overhead)
        worst = max(result["error_share"] for result in load.values())
        ok = worst <= options["max_error_share"]
        console.print(
            f"failed requests: {sum(r['failed'] for r in load.values())} of "
            f"{sum(r['requests'] for r in load.values())}; worst scenario {worst:.1%}, "
            f"allowed {options['max_error_share']:.1%}: {'ok' if ok else 'FAILED'}"
        )
        ratio = {name: result["rls"] / result["admin"] for name, result in rls.items()}
        headline = {
            "rls_overhead_first_page": round(ratio["apps list, first page"], 3),
            "rls_overhead_filtered": round(ratio["apps list, filtered"], 3),
            "goal_rls_overhead": 1.1,
            # The statement as the first of its transaction, paying for the visible projects.
            "rls_overhead_first_statement": {
                name: round(result["rls_first"] / result["admin_first"], 3) for name, result in rls.items()
            },
            "apps": options["apps"],
            "ok": ok,
            "max_error_share": options["max_error_share"],
            "worst_error_share": round(worst, 4),
            "scenarios": {
                name: {
                    "requests_per_s": round(result["throughput"], 1),
                    "p50_ms": _ms(result["p50"]),
                    "p95_ms": _ms(result["p95"]),
                    "requests": result["requests"],
                    **result["errors"],
                }
                for name, result in load.items()
            },
            "queries_per_request": queries,
        }
        self.stdout.write(f"BENCH-RESULT {json.dumps(headline)}")
        if not ok:
            # After the result line, so it stays the last line of the output; exit status 1.
            raise SystemExit(1)


def _ms(seconds: float) -> float | None:
    return None if math.isnan(seconds) else round(seconds * 1000, 1)
