"""Writes for Qlik metadata: the sync, the offline import, storing snapshots, queueing.

The sync itself lives in the `qlik.sync` package, one piece per module (fetch, problems,
payloads, store, runs, project); this module is the place callers import from.
"""

from collections.abc import Iterable

from django.db import transaction

from customers.models import Project, User
from qlik.artifacts import ArtifactDirectory
from qlik.models import QlikSyncRun
from qlik.sync.connect import client_options, qlik_client_for
from qlik.sync.project import qlik_project_sync
from qlik.sync.runs import SyncAlreadyRunning, sync_run_finish, sync_run_start, sync_statistics_refresh
from qlik.sync.store import QlikSnapshot, qlik_rows_store, qlik_snapshot_replace

__all__ = [
    "QlikSnapshot",
    "SyncAlreadyRunning",
    "client_options",
    "project_sync_enqueue",
    "project_syncs_enqueue",
    "qlik_artifacts_import",
    "qlik_client_for",
    "qlik_project_sync",
    "qlik_rows_store",
    "qlik_snapshot_replace",
    "sync_run_finish",
    "sync_run_start",
    "sync_statistics_refresh",
]


def qlik_artifacts_import(*, project: Project, directory: str, actor: User) -> QlikSyncRun:
    """Load exported JSON (see qlik.artifacts) through the sync's own code and storage."""
    return qlik_project_sync(
        project=project,
        actor=actor,
        trigger=QlikSyncRun.Trigger.IMPORT,
        full=True,
        client=ArtifactDirectory(directory),
    )


def project_sync_enqueue(
    *, project: Project, trigger: str, requested_by: User | None = None, full: bool = False
) -> int | None:
    """Queue a background sync of `project`; None when one is already waiting."""
    from procrastinate.exceptions import AlreadyEnqueued

    from qlik.tasks import sync_project

    lock = f"qlik-sync-{project.pk}"
    try:
        with transaction.atomic():  # a refused enqueue must not abort the caller's transaction
            return sync_project.configure(lock=lock, queueing_lock=lock).defer(
                project_id=project.pk,
                trigger=trigger,
                requested_by_id=requested_by.pk if requested_by else None,
                full=full,
            )
    except AlreadyEnqueued:
        return None


def project_syncs_enqueue(
    *, projects: Iterable[Project], trigger: str, requested_by: User | None = None
) -> list[int]:
    """Queue a sync of each project; returns the ids of the jobs queued (waiting ones skipped)."""
    jobs = [project_sync_enqueue(project=p, trigger=trigger, requested_by=requested_by) for p in projects]
    return [job for job in jobs if job is not None]
