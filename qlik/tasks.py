"""Background jobs (procrastinate): a sync per project, and the periodic sync of all.

Jobs live in PostgreSQL (procrastinate's tables), so there is no broker to run, and any
number of stateless workers (`manage.py procrastinate worker`) can share the queue. Each
project's job carries the lock and the queueing lock `qlik-sync-<project id>`: at most
one waits in the queue and at most one runs, whatever number of workers.
"""

import procrastinate
from django.conf import settings
from procrastinate.contrib.django import app

from atlas.rls import acting_as
from customers.models import Project, User
from qlik.client import QlikUnavailable
from qlik.models import QlikSyncRun
from qlik.services import qlik_project_sync

SYNC_QUEUE = "qlik-sync"


class TransientSyncFailure(QlikUnavailable):
    """The tenant was unavailable (retries ran out): worth another attempt later."""


def _system_user() -> User:
    return User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)


@app.task(
    name="qlik.sync_project",
    queue=SYNC_QUEUE,
    # Retries the run for the tenant being unavailable, after 2, 4, 8 minutes; a rejected
    # key or a malformed answer fails at once (another attempt would fail the same way).
    retry=procrastinate.RetryStrategy(
        max_attempts=3, exponential_wait=2 * 60, retry_exceptions={TransientSyncFailure}
    ),
)
def sync_project(
    project_id: int, trigger: str = "schedule", requested_by_id: int | None = None, full: bool = False
):
    system = _system_user()
    with acting_as(system):
        project = Project.objects.select_related("customer").get(pk=project_id)
        requested_by = User.objects.filter(pk=requested_by_id).first() if requested_by_id else None
    run = qlik_project_sync(
        project=project, actor=system, trigger=trigger, requested_by=requested_by, full=full
    )
    if run.status == QlikSyncRun.Status.FAILED and getattr(run, "transient", False):
        raise TransientSyncFailure(run.error)
    return {"run": run.pk, "status": run.status}


@app.task(name="qlik.sync_all_projects", queue=SYNC_QUEUE)
def sync_all_projects(timestamp: int | None = None) -> int:
    """Enqueue a sync of every project (one job each, skipped where one already waits)."""
    from qlik.services import project_syncs_enqueue

    with acting_as(_system_user()):
        return len(
            project_syncs_enqueue(projects=Project.objects.all(), trigger=QlikSyncRun.Trigger.SCHEDULE)
        )


def on_app_ready(procrastinate_app) -> None:
    """Settings are read here, once Django is configured, not at import time."""
    schedule = settings.QLIK_SYNC_SCHEDULE
    if schedule:
        procrastinate_app.periodic(cron=schedule, periodic_id="nightly")(
            procrastinate_app.tasks["qlik.sync_all_projects"]
        )
