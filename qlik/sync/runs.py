"""Sync runs: one running sync per project, tied to the process that runs it.

"Running" is a session-level PostgreSQL advisory lock held by the syncing connection, not
a heartbeat: the lock dies with the connection, so a sync killed mid-way (`kill -9`, an
OOM kill, a deploy) frees its project at once. The next sync takes the lock, finds the
dead run still marked running, closes it as interrupted, and proceeds. A live sync holds
the lock, so it is never doubled — across processes by the lock, within one process
(where advisory locks are re-entrant) by `_HELD`. The unique constraint on running runs
stays as the last guard.
"""

import threading

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, DateTimeField, F, Func, IntegerField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from customers.models import Project, User
from qlik.client import QlikError
from qlik.models import QlikSyncRun

# The advisory-lock namespace of project syncs (pg_try_advisory_lock(int, int)): "qlk".
LOCK_NAMESPACE = 0x716C6B
INTERRUPTED = "Interrupted: the process running this sync ended before it finished."

_HELD: set[int] = set()  # projects this process is syncing
_HELD_LOCK = threading.Lock()


class SyncAlreadyRunning(QlikError):
    """Another sync of the project is under way."""


class _TryAdvisoryLock(Func):
    function = "pg_try_advisory_lock"
    arity = 2
    output_field = BooleanField()


class _AdvisoryUnlock(Func):
    function = "pg_advisory_unlock"
    arity = 2
    output_field = BooleanField()


def _project_lock(project: Project, function) -> bool:
    return bool(
        Project.objects.filter(pk=project.pk)
        .annotate(result=function(Value(LOCK_NAMESPACE), Cast(F("pk"), IntegerField())))
        .values_list("result", flat=True)
        .first()
    )


def _already_running(project: Project) -> SyncAlreadyRunning:
    running = QlikSyncRun.objects.filter(project=project, status=QlikSyncRun.Status.RUNNING).first()
    since = f" (run #{running.pk}, started {running.started_at:%Y-%m-%d %H:%M} UTC)" if running else ""
    return SyncAlreadyRunning(f"A sync of {project} is already running{since}.")


def sync_run_start(
    *, project: Project, trigger: str, requested_by: User | None = None, full: bool = False
) -> QlikSyncRun:
    """Record a running sync, holding the project's lock until `sync_run_finish`.

    A run left "running" by a process that died is closed as interrupted first."""
    with _HELD_LOCK:
        if project.pk in _HELD:
            raise _already_running(project)
        if not _project_lock(project, _TryAdvisoryLock):
            raise _already_running(project)
        _HELD.add(project.pk)
    try:
        # We hold the lock, so no live process is syncing this project: any run still
        # marked running belonged to one that died.
        QlikSyncRun.objects.filter(project=project, status=QlikSyncRun.Status.RUNNING).update(
            status=QlikSyncRun.Status.FAILED, finished_at=timezone.now(), error=INTERRUPTED
        )
        with transaction.atomic():
            return QlikSyncRun.objects.create(
                project=project, trigger=trigger, requested_by=requested_by, full=full
            )
    except IntegrityError:
        _release(project)
        raise _already_running(project)
    except BaseException:
        _release(project)
        raise


def _release(project: Project) -> None:
    with _HELD_LOCK:
        if project.pk in _HELD:
            _HELD.discard(project.pk)
            _project_lock(project, _AdvisoryUnlock)


def sync_run_heartbeat(*, run: QlikSyncRun) -> None:
    QlikSyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())


def sync_run_finish(*, run: QlikSyncRun, error: str = "", **values) -> QlikSyncRun:
    """Close the run as succeeded (or failed with `error`) and free the project."""
    run.status = QlikSyncRun.Status.FAILED if error else QlikSyncRun.Status.SUCCEEDED
    run.error = error[:2000]
    run.finished_at = timezone.now()
    for name, value in values.items():
        setattr(run, name, value)
    try:
        run.save()
    finally:
        _release(run.project)
    return run


class SyncedTablesAnalyze(Func):
    """ANALYZE of the synced tables, as their owner (qlik migrations 0010, 0012); returns when."""

    function = "atlas_private.synced_tables_analyze"
    arity = 0
    output_field = DateTimeField()


def sync_statistics_refresh(*, run: QlikSyncRun) -> QlikSyncRun:
    """Refresh the planner's statistics after a sync that changed many rows, in a short
    transaction of its own, and record when on the run. Until autovacuum's next round the
    planner would otherwise believe the tables nearly empty and may loop joins n²."""
    QlikSyncRun.objects.filter(pk=run.pk).update(statistics_refreshed_at=SyncedTablesAnalyze())
    run.refresh_from_db(fields=["statistics_refreshed_at"])
    return run
