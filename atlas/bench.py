"""Parts shared by the benchmark commands: a scratch project, fresh statistics, peak memory."""

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings

from atlas import db_roles
from atlas.rls import acting_as
from customers.models import Customer, Project
from customers.services import customer_create, project_create


@contextmanager
def scratch_project(
    *, actor, name: str, tenant_url: str = "https://bench.example.com", api_key: str = ""
) -> Iterator[Project]:
    """A throwaway customer and project, removed (with all their rows) afterwards."""
    with acting_as(actor):
        Customer.objects.filter(name=name).delete()
        customer = customer_create(name=name, tenant_url=tenant_url, api_key=api_key or None)
        project = project_create(customer=customer, name=name)
    try:
        yield project
    finally:
        with acting_as(actor):
            Project.objects.filter(pk=project.pk).delete()
            Customer.objects.filter(name=name).delete()


def statistics_refresh(*models) -> None:
    """Fresh planner statistics, as autovacuum gives a table within a minute of a large load.

    Raw SQL outside a migration, on purpose and for benchmarks only: ANALYZE needs the
    table's owner, which the runtime role is not, so it runs as the cluster's admin.
    """
    if not settings.ATLAS_ADMIN_DATABASE:
        sys.stderr.write("No DATABASE_ADMIN_URL: relying on autovacuum for statistics.\n")
        return
    admin = db_roles._conninfo(settings.ATLAS_ADMIN_DATABASE, settings.DATABASES["default"]["NAME"])
    with psycopg.connect(admin, autocommit=True) as conn:
        for model in models:
            conn.execute(f"ANALYZE {model._meta.db_table}")


class PeakRss:
    """Samples this process's resident memory while a block runs; reports peak growth."""

    def __enter__(self):
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]
