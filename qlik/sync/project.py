"""The sync of one project: fetch everything, then store it in one transaction.

Order: who the key is (`/users/me`: a rejected key fails here, named so), the listings
(spaces, data connections, datasets, reloads, audits), then the apps page by page with
their per-app calls, then the storage phase and the lineage refresh. Only what makes the
snapshot untrustworthy fails a sync: a rejected key, a listing that cannot be read, or a
systemic failure (problems.py). Anything that goes wrong with one app is recorded on the
run and costs that app's detail.
"""

import logging
import tempfile
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from atlas.rls import acting_as
from customers.models import Project, User
from lineage.services import lineage_project_refresh
from qlik.client import QlikBadResponse, QlikClient, QlikCredentialsRejected, QlikError, QlikUnavailable
from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    QlikDataConnection,
    QlikDataset,
    QlikSpace,
    QlikSyncRun,
    QlikUser,
)
from qlik.selectors import last_successful_sync
from qlik.sync import fetch as fetching
from qlik.sync.changes import changes_record, project_state_take
from qlik.sync.connect import qlik_client_for
from qlik.sync.fetch import Fetch, Progress, Spool, no_progress
from qlik.sync.runs import sync_run_finish, sync_run_heartbeat, sync_run_start, sync_statistics_refresh
from qlik.sync.store import qlik_rows_store
from qlik.usage import AppUsageInputs, usage_row

logger = logging.getLogger(__name__)


def _listing_failure(error: QlikError, what: str) -> QlikError:
    """A listing that cannot be read fails the sync, named as such (not as the key)."""
    if isinstance(error, QlikUnavailable | QlikBadResponse) or error.status is None:
        return error
    return QlikError(
        f"Could not read the {what} listing ({error.status}): {error}. The key works, but its user "
        "may lack the right to list them; the previous snapshot is kept.",
        status=error.status,
        endpoint=error.endpoint,
    )


def _listings(client, spool: Spool, fetch: Fetch, progress: Progress, since: str, now: str) -> None:
    for what, read in (
        (
            "spaces",
            lambda: fetching.listing_spool(
                client.spaces(), spool, "spaces", progress, "spaces", "/spaces answered a space"
            ),
        ),
        ("data connections", lambda: fetching.connections_spool(client, spool, progress)),
        ("datasets", lambda: fetching.datasets_spool(client, spool, progress)),
        ("reloads", lambda: fetching.reloads_collect(client, fetch, since, progress)),
    ):
        try:
            read()
        except QlikCredentialsRejected:
            raise
        except QlikError as exc:
            raise _listing_failure(exc, what) from exc
    fetching.users_spool(client, spool, fetch, progress)
    fetching.audits_collect(client, fetch, since, now, progress)


def _apps_collect(
    *, client, project, actor, run, fetch: Fetch, spool: Spool, full: bool, progress: Progress, now: str
) -> None:
    window_days, threshold = settings.QLIK_USAGE_WINDOW_DAYS, settings.QLIK_LOW_USE_THRESHOLD
    artifact_file_name = getattr(client, "artifact_file_name", None)
    problems = fetch.problems
    for page in client.app_items():
        items = [item for item in page if item.get("resourceType", "app") == "app"]
        for item in items:
            fetching.listed_key(item.get("resourceId"), "/items answered an app item with no resourceId")
        guids = [item["resourceId"] for item in items]
        with acting_as(actor, project=project):
            previous = dict(
                QlikApp.objects.filter(project=project, app_id__in=guids).values_list("app_id", "data")
            )
            sync_run_heartbeat(run=run)
        changed = [
            item
            for item in items
            if full
            or not fetching.app_unchanged(
                previous.get(item["resourceId"]), item, fetch.usage.get(item["resourceId"], AppUsageInputs())
            )
        ]
        answers = client.parallel(
            lambda item: fetching.app_details_fetch(
                client, item, fetch.usage.get(item["resourceId"], AppUsageInputs()), problems
            ),
            changed,
        )
        details = dict(zip([item["resourceId"] for item in changed], answers, strict=True))
        problems.systemic_check()
        for item in items:
            guid = item["resourceId"]
            inputs = fetch.usage.pop(guid, AppUsageInputs())
            before = previous.get(guid) or {}
            if guid in details:
                fresh = details[guid]
                attributes, metadata = fresh.attributes, fresh.reload_metadata
                lineage_graph, app_problems = fresh.lineage_graph, fresh.problems
                if fresh.script is not None:
                    spool.add("scripts", {"appId": guid, "script": fresh.script})
                fetch.fetched += 1
            else:
                # Carried over: the item's own attributes are fresh, the rest as stored.
                attributes = {**(before.get("attributes") or {}), **fetching.item_attributes(item)}
                metadata, lineage_graph = before.get("reloadMetadata"), before.get("lineageGraph")
                app_problems = before.get("problems") or []
                if app_problems:
                    problems.carried(app_id=guid, app_name=str(item.get("name") or ""), problems=app_problems)
                fetch.carried += 1
            spool.add(
                "apps",
                {
                    "item": item,
                    "attributes": attributes,
                    "reloadMetadata": metadata,
                    "lineageGraph": lineage_graph,
                    "lastReloadId": inputs.last_reload_id,
                    "problems": app_problems,
                },
            )
            usage = usage_row(
                item=item,
                inputs=inputs,
                connections=_connections_used(metadata),
                window_days=window_days,
                generated_at=now,
                low_use_threshold=threshold,
                audits_counted=fetch.audits_counted,
            )
            if artifact_file_name:  # an offline import names the file each app came from
                usage["_artifactFileName"] = artifact_file_name(guid)
            spool.add("usage", usage)
            fetch.app_ids.add(guid)
        progress("apps", len(fetch.app_ids), None)


def _connections_used(metadata: dict | None) -> list[str]:
    statements = (metadata or {}).get("statements") or []
    return sorted(
        {
            s["connection"]
            for s in statements
            if isinstance(s, dict) and isinstance(s.get("connection"), str) and s["connection"]
        }
    )


def qlik_project_sync(
    *,
    project: Project,
    actor: User,
    trigger: str = QlikSyncRun.Trigger.COMMAND,
    requested_by: User | None = None,
    full: bool = False,
    progress: Progress = no_progress,
    client: QlikClient | None = None,
) -> QlikSyncRun:
    """Sync a project from its customer's tenant; returns the run (failed or succeeded).

    Acts as `actor`, narrowed by RLS to this one project. The run record is committed on
    its own, so it survives a failed sync; the snapshot is stored in one transaction.
    """
    with acting_as(actor, project=project):
        # The newest successful run: what the stored snapshot and lineage graph came from.
        previous = last_successful_sync(project=project)
        apps_before = (previous.counts or {}).get("qlik_apps", 0) if previous else 0
        previous_digest = previous.lineage_digest if previous and not full else ""
        run = sync_run_start(project=project, trigger=trigger, requested_by=requested_by or actor, full=full)
    stats_client, fetch = client, Fetch()
    try:
        with acting_as(actor, project=project):
            owned_client = client or qlik_client_for(customer=project.customer)
        stats_client = owned_client
        with owned_client, tempfile.TemporaryDirectory(prefix="qlik-sync-") as directory:
            spool = Spool(directory)
            moment = timezone.now()
            now = moment.isoformat()
            since = (moment - timedelta(days=settings.QLIK_USAGE_WINDOW_DAYS)).isoformat()
            owned_client.me()  # a rejected key fails here, before anything else is asked
            _listings(owned_client, spool, fetch, progress, since, now)
            _apps_collect(
                client=owned_client,
                project=project,
                actor=actor,
                run=run,
                fetch=fetch,
                spool=spool,
                full=full,
                progress=progress,
                now=now,
            )
            progress("storing", 0, None)
            started = timezone.now()
            with acting_as(actor, project=project):
                measured = timezone.now()
                before = project_state_take(project=project)
                changes_seconds = (timezone.now() - measured).total_seconds()
                counts = qlik_rows_store(
                    project=project,
                    rows={
                        QlikSpace: spool.read("spaces"),
                        QlikDataConnection: spool.read("connections"),
                        QlikDataset: spool.read("datasets"),
                        QlikUser: spool.read("users"),
                        QlikApp: spool.read("apps"),
                        QlikAppScript: spool.read("scripts"),
                        QlikAppUsage: spool.read("usage"),
                    },
                    # Scripts of carried apps, and of apps whose script could not be read
                    # this time, stay as stored; those of vanished apps go.
                    keep={QlikAppScript: fetch.app_ids},
                )
                includes = owned_client.include_files() if hasattr(owned_client, "include_files") else {}
                lineage_counts, lineage_digest = lineage_project_refresh(
                    project=project, includes=includes, previous_digest=previous_digest
                )
                graph_kept = lineage_digest == previous_digest
                if graph_kept:
                    fetch.notes.append("Lineage graph kept: nothing it is built from has changed.")
                rows_written = counts.pop("rows_written", 0) + lineage_counts.pop("rows_written", 0)
                write_seconds = counts.pop("write_seconds", 0.0) + lineage_counts.pop("write_seconds", 0.0)
                counts.update(lineage_counts)
                measured = timezone.now()
                after = project_state_take(project=project, edges=not graph_kept)
                if graph_kept:
                    before.edges = None
                counts["qlik_changes"] = changes_record(project=project, run=run, before=before, after=after)
                rows_written += counts["qlik_changes"]
                changes_seconds += (timezone.now() - measured).total_seconds()
                if not counts["qlik_changes"]:
                    fetch.notes.append("No changes since the previous sync.")
            storage_seconds = (timezone.now() - started).total_seconds()
            counts["qlik_app_scripts"] = spool.counts.get("scripts", 0)
    except BaseException as exc:
        if isinstance(exc, QlikError):
            message = str(exc)
        elif isinstance(exc, Exception):
            message = f"{type(exc).__name__}: {exc}"
        else:  # Ctrl-C, SIGTERM: record it, then let the process end
            message = f"Interrupted ({type(exc).__name__}) before the sync finished."
        logger.warning("Sync of %s failed: %s", project, message)
        with acting_as(actor, project=project):
            run = sync_run_finish(run=run, error=message, **_run_record(stats_client, fetch))
        run.transient = isinstance(exc, QlikUnavailable)  # worth retrying later
        if not isinstance(exc, Exception):
            raise
        return run
    with acting_as(actor, project=project):
        run = sync_run_finish(
            run=run,
            counts=counts,
            apps_fetched=fetch.fetched,
            apps_carried=fetch.carried,
            storage_seconds=storage_seconds,
            changes_seconds=changes_seconds,
            write_seconds=write_seconds,
            rows_written=rows_written,
            lineage_digest=lineage_digest,
            **_run_record(owned_client, fetch),
        )
        if abs(counts.get("qlik_apps", 0) - apps_before) >= settings.QLIK_STATISTICS_REFRESH_APPS:
            run = sync_statistics_refresh(run=run)
    return run


def _run_record(client: QlikClient | None, fetch: Fetch) -> dict:
    """What the run keeps of the client's work and the problems met."""
    record = {
        "problems": fetch.problems.as_json(),
        "apps_with_problems": len(fetch.problems.affected),
        "notes": "\n".join([*fetch.problems.lines(), *fetch.notes]),
    }
    if client is not None:
        stats = client.stats
        record.update(
            api_calls=stats.calls,
            rate_limited=stats.rate_limited,
            retries=stats.retries,
            bytes_received=stats.bytes,
        )
        record["calls_by_endpoint"] = dict(getattr(stats, "by_endpoint", None) or {})
    return record
