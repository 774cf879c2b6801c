"""Benchmark the sync against a fake tenant, with PostgreSQL COPY as the physical limit.

Raw SQL outside a migration, on purpose: the COPY baseline is the thing measured, and it
runs as the cluster's superuser (COPY FROM refuses tables under RLS otherwise), inside a
transaction that is rolled back.
"""

import io
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from rich.console import Console
from rich.table import Table

from atlas import db_roles
from atlas.bench import PeakRss, scratch_project
from customers.models import User
from lineage.models import LineageEdge, LineageNode
from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    QlikChange,
    QlikDataConnection,
    QlikDataset,
    QlikScriptVersion,
    QlikSpace,
    QlikUser,
)
from qlik.services import qlik_project_sync

KEY = "bench-fake-key-0123456789"
# Every table the storage phase writes: the COPY baseline writes the same rows into them.
# All but the change log go through the write path (atlas.bulk: COPY, upsert, delete).
TABLES = (
    QlikSpace,
    QlikDataConnection,
    QlikDataset,
    QlikUser,
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    LineageNode,
    LineageEdge,
    QlikChange,
    QlikScriptVersion,
)

BULK_WRITTEN = TABLES[:-2]


def _columns(model) -> str:
    return ", ".join(f'"{f.column}"' for f in model._meta.concrete_fields if not f.primary_key)


def _rate(copy: dict, models) -> tuple[int, float]:
    """Rows, and rows per second, of COPY into these tables."""
    rows = sum(copy[model]["rows"] for model in models)
    return rows, rows / sum(copy[model]["seconds"] for model in models)


class Command(BaseCommand):
    help = "Sync a fake tenant of N apps; print wall time, calls, write rate vs COPY, memory, Tier 1."

    def add_arguments(self, parser):
        parser.add_argument("--apps", type=int, default=10_000)
        parser.add_argument("--tier1-apps", type=int, default=400, help="apps for the Tier 1 run (0: skip)")
        parser.add_argument("--port", type=int, default=8790)

    def handle(self, *args, **options):
        if not settings.ATLAS_ADMIN_DATABASE:
            raise CommandError("The COPY baseline needs DATABASE_ADMIN_URL (the embedded database has one).")
        console = Console(file=self.stdout)
        system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
        settings.QLIK_REQUESTS_PER_MINUTE = 0  # the write path and the API path, not the budget
        apps = options["apps"]
        results = {}
        small = max(apps // 10, 100)
        for size in (small, apps):
            with (
                self._tenant(options["port"], size) as url,
                scratch_project(actor=system, name=f"bench-{size}", tenant_url=url, api_key=KEY) as project,
            ):
                with PeakRss() as memory:
                    started = time.monotonic()
                    full = qlik_project_sync(project=project, actor=system)
                    wall = time.monotonic() - started
                if full.status != "succeeded":
                    raise CommandError(f"Sync of {size} apps failed: {full.error}")
                results[size] = {"full": full, "wall": wall, "memory": memory.growth_mb}
                if size == apps:
                    written_before = self._rows_written()
                    started = time.monotonic()
                    results[size]["resync"] = qlik_project_sync(project=project, actor=system)
                    results[size]["resync_wall"] = time.monotonic() - started
                    results[size]["resync_rows_written"] = self._rows_written() - written_before
                    results[size]["copy"] = self._copy_baseline(project)
        tier1 = None
        if options["tier1_apps"]:
            tier1 = self._tier1(system, options["port"], options["tier1_apps"])
        self._report(console, apps, small, results, tier1)

    # --- parts -----------------------------------------------------------------------------

    @contextmanager
    def _tenant(self, port: int, apps: int, *extra: str) -> Iterator[str]:
        """A fake tenant in its own process, so its work is not the sync's; yields its URL."""
        process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "manage.py",
                "fake_qlik_tenant",
                "--port",
                str(port),
                "--apps",
                str(apps),
                "--api-key",
                KEY,
                *extra,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            process.stdout.readline()  # "Fake Qlik tenant ... at URL": it is listening
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait()

    def _rows_written(self) -> int:
        """Rows inserted, updated or deleted in the synced and lineage tables so far, from the
        statistics collector (this backend's pending counts flushed first)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
        time.sleep(1.1)  # the flush happens when the backend goes idle; give it that moment
        admin = db_roles._conninfo(settings.ATLAS_ADMIN_DATABASE, settings.DATABASES["default"]["NAME"])
        tables = [model._meta.db_table for model in TABLES]
        with psycopg.connect(admin) as conn:
            (written,) = conn.execute(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables "
                "WHERE relname = ANY(%s)",
                [tables],
            ).fetchone()
        return int(written)

    def _copy_baseline(self, project, repeats: int = 3) -> dict:
        """COPY FROM writing the project's rows (what the full sync stored) again into the same
        tables, indexes and all, each repeat in one transaction rolled back: rows and median
        seconds per table (one COPY of a few thousand rows varies by half on this machine)."""
        admin = db_roles._conninfo(settings.ATLAS_ADMIN_DATABASE, settings.DATABASES["default"]["NAME"])
        dumps, rows, seconds = {}, {}, {model: [] for model in TABLES}
        with psycopg.connect(admin) as conn:
            for model in TABLES:
                buffer = io.BytesIO()
                with conn.cursor().copy(
                    f"COPY (SELECT {_columns(model)} FROM {model._meta.db_table} "
                    f"WHERE project_id = {int(project.pk)}) TO STDOUT"
                ) as copy:
                    for chunk in copy:
                        buffer.write(chunk)
                dumps[model] = buffer.getvalue()
            conn.rollback()
            for _ in range(repeats):
                for model in TABLES:
                    table = model._meta.db_table
                    rows[model] = conn.execute(
                        f"DELETE FROM {table} WHERE project_id = %s", [project.pk]
                    ).rowcount
                    started = time.monotonic()
                    with conn.cursor().copy(f"COPY {table} ({_columns(model)}) FROM STDIN") as copy:
                        copy.write(dumps[model])
                    seconds[model].append(time.monotonic() - started)
                conn.rollback()
        return {
            model: {"rows": rows[model], "seconds": statistics.median(seconds[model])} for model in TABLES
        }

    def _tier1(self, system, port: int, apps: int) -> dict:
        settings.QLIK_REQUESTS_PER_MINUTE = 900
        tenant = self._tenant(port + 1, apps, "--rate-limit", "1000")
        with (
            tenant as url,
            scratch_project(actor=system, name="bench-tier1", tenant_url=url, api_key=KEY) as project,
        ):
            started = time.monotonic()
            run = qlik_project_sync(project=project, actor=system)
            wall = time.monotonic() - started
        if run.status != "succeeded":
            raise CommandError(f"The Tier 1 sync failed: {run.error}")
        return {"run": run, "wall": wall, "limit_seconds": run.api_calls / 1000 * 60}

    def _report(self, console, apps, small, results, tier1) -> None:
        big = results[apps]
        full, copy = big["full"], big["copy"]
        # The write path: rows through atlas.bulk ÷ the time spent there, against COPY of
        # the same rows into the same tables. The storage phase: every row it stored ÷ its
        # whole time, which also parses every script, builds the graph and finds changes.
        written, copy_written_rate = _rate(copy, BULK_WRITTEN)
        stored, copy_rate = _rate(copy, TABLES)
        write_rate = written / full.write_seconds
        sync_rate = stored / full.storage_seconds
        lineage_seconds = full.storage_seconds - full.write_seconds - full.changes_seconds
        table = Table(title=f"bench-sync: fake tenant of {apps:,} apps (scripts and usage)")
        table.add_column("measure")
        table.add_column("value", justify="right")
        rows = [
            ("full sync wall time", f"{big['wall']:.1f} s"),
            ("API calls (full sync)", f"{full.api_calls:,}"),
            ("API calls per app (full sync)", f"{full.api_calls / apps:.2f}"),
            *(
                (f"  {endpoint}", f"{calls:,} ({calls / apps:.2f} per app)")
                for endpoint, calls in sorted(full.calls_by_endpoint.items(), key=lambda entry: -entry[1])
            ),
            ("rows stored", f"{stored:,}"),
            ("storage phase", f"{full.storage_seconds:.2f} s"),
            ("  writing rows (COPY to staging, upsert, delete)", f"{full.write_seconds:.2f} s"),
            ("  finding changes", f"{full.changes_seconds:.2f} s"),
            ("  parsing scripts, building the graph, the rest", f"{lineage_seconds:.2f} s"),
            ("write rate", f"{write_rate:,.0f} rows/s"),
            ("COPY write rate, same rows and tables", f"{copy_written_rate:,.0f} rows/s"),
            ("write rate ÷ COPY", f"{write_rate / copy_written_rate:.2f}"),
            ("storage phase rate ÷ COPY (all of it, per row stored)", f"{sync_rate / copy_rate:.2f}"),
            ("unchanged resync wall time", f"{big['resync_wall']:.1f} s"),
            ("API calls per app (unchanged resync)", f"{big['resync'].api_calls / apps:.3f}"),
            ("rows written by the unchanged resync", f"{big['resync_rows_written']:,}"),
            (
                "finding changes, share of the storage phase (full / resync)",
                f"{full.changes_seconds / full.storage_seconds:.0%} / "
                f"{big['resync'].changes_seconds / big['resync'].storage_seconds:.0%}",
            ),
            (f"peak memory growth, {small:,} apps", f"{results[small]['memory']:.0f} MB"),
            (f"peak memory growth, {apps:,} apps", f"{big['memory']:.0f} MB"),
        ]
        if tier1:
            run = tier1["run"]
            rows += [
                (
                    f"Tier 1 run ({run.counts.get('qlik_apps', 0):,} apps, 1,000/min)",
                    f"{tier1['wall']:.1f} s",
                ),
                ("  calls, 429s met", f"{run.api_calls:,}, {run.rate_limited}"),
                ("  wall ÷ (calls ÷ 1,000/min)", f"{tier1['wall'] / tier1['limit_seconds']:.2f}"),
            ]
        for name, value in rows:
            table.add_row(name, value)
        console.print(table)
        result = {
            "apps": apps,
            "full_sync_seconds": round(big["wall"], 1),
            "calls_per_app_full": round(full.api_calls / apps, 3),
            "calls_per_app_unchanged_resync": round(big["resync"].api_calls / apps, 3),
            "write_rate_vs_copy": round(write_rate / copy_written_rate, 3),
            "storage_phase_rate_vs_copy": round(sync_rate / copy_rate, 3),
            "storage_seconds": round(full.storage_seconds, 2),
            "write_seconds": round(full.write_seconds, 2),
            "rows_stored": stored,
            "rows_written_unchanged_resync": big["resync_rows_written"],
            "changes_share_of_storage_resync": round(
                big["resync"].changes_seconds / big["resync"].storage_seconds, 3
            ),
            "memory_growth_mb": {
                str(small): round(results[small]["memory"]),
                str(apps): round(big["memory"]),
            },
        }
        if tier1:
            result["tier1_wall_vs_limit"] = round(tier1["wall"] / tier1["limit_seconds"], 2)
        self.stdout.write("BENCH-RESULT " + json.dumps(result, separators=(",", ":")))
