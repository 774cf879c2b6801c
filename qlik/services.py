"""Writes for Qlik metadata: storing API-shaped objects, the sync, the offline import.

Storage is set-based: rows go in batches of 1,000 as one multi-row
`INSERT ... ON CONFLICT (project_id, <key>) DO UPDATE` each, then one DELETE removes what
vanished. The whole store runs in one transaction, so readers see the old snapshot or the
new one, never a mix, and a failure at any point leaves the old one whole.

The sync fetches first and stores after: pages are spooled to a temporary file as they
arrive (memory stays flat however many apps there are), and the database transaction
opens only for the storage phase, not for the minutes the API calls take.
"""

import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Func
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from atlas.iterables import batched
from atlas.rls import acting_as
from customers.models import Project, User
from lineage.services import lineage_project_refresh
from qlik.artifacts import ArtifactDirectory
from qlik.client import (
    SHEET_VIEW_EVENT,
    ClientOptions,
    QlikBadResponse,
    QlikClient,
    QlikCredentialsRejected,
    QlikError,
    QlikUnavailable,
)
from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    QlikDataConnection,
    QlikSpace,
    QlikSyncRun,
)
from qlik.selectors import last_successful_sync
from qlik.usage import AppUsageInputs, usage_row

logger = logging.getLogger(__name__)
BATCH_SIZE = 1000

# Never stored, even if a payload carries it (only the single-connection GET does).
CONNECTION_SECRET_KEYS = frozenset({"qConnectionSecret", "qPassword"})


@dataclass
class QlikSnapshot:
    """What one sync (or import) of a project brings, shaped as the API returns it."""

    spaces: list[dict] = field(default_factory=list)  # /spaces objects
    apps: list[dict] = field(default_factory=list)  # {"item": /items object, "attributes": ...}
    data_connections: list[dict] = field(default_factory=list)  # /data-connections objects
    scripts: dict[str, str] = field(default_factory=dict)  # app GUID -> current script
    usage: list[dict] = field(default_factory=list)  # usage aggregates (see QlikAppUsage)


def _when(value):
    return parse_datetime(value) if isinstance(value, str) and value else None


def _text(value) -> str:
    return "" if value is None else str(value)


def _space(project: Project, obj: dict) -> QlikSpace:
    return QlikSpace(
        project=project,
        space_id=obj["id"],
        spaceId=obj["id"],
        spaceName=_text(obj.get("name")),
        ownerId=_text(obj.get("ownerId")),
        tenantId=_text(obj.get("tenantId")),
        type=_text(obj.get("type")),
        createdAt=_when(obj.get("createdAt")),
        updatedAt=_when(obj.get("updatedAt")),
        data=obj,
    )


def _app(project: Project, obj: dict) -> QlikApp:
    item, attributes = obj["item"], obj.get("attributes") or {}
    return QlikApp(
        project=project,
        app_id=item["resourceId"],
        appName=_text(item.get("name") or attributes.get("name")),
        spaceId=item.get("spaceId") or None,
        status=_text(item.get("resourceReloadStatus")),
        fileName=_text(attributes.get("fileName") or item.get("resourceAttributes", {}).get("fileName")),
        data=obj,
    )


def _data_connection(project: Project, obj: dict) -> QlikDataConnection:
    obj = {key: value for key, value in obj.items() if key not in CONNECTION_SECRET_KEYS}
    return QlikDataConnection(
        project=project,
        connection_id=obj["id"],
        qlik_id=obj["id"],
        qID=_text(obj.get("qID")),
        qri=_text(obj.get("qri")),
        tags=obj.get("tags") or [],
        user=_text(obj.get("user")),
        links=obj.get("links") or {},
        qName=_text(obj.get("qName")),
        qType=_text(obj.get("qType")),
        space=_text(obj.get("space")),
        qLogOn=_text(obj.get("qLogOn")),
        tenant=_text(obj.get("tenant")),
        created=_when(obj.get("created")),
        updated=_when(obj.get("updated")),
        version=_text(obj.get("version")),
        privileges=obj.get("privileges") or [],
        datasourceID=_text(obj.get("datasourceID")),
        qArchitecture=_text(obj.get("qArchitecture")),
        qCredentialsID=_text(obj.get("qCredentialsID")),
        qEngineObjectID=_text(obj.get("qEngineObjectID")),
        qConnectStatement=_text(obj.get("qConnectStatement")),
        qSeparateCredentials=obj.get("qSeparateCredentials"),
        data=obj,
    )


def _usage(project: Project, obj: dict) -> QlikAppUsage:
    return QlikAppUsage(
        project=project,
        app_id=obj["appId"],
        appName=_text(obj.get("appName")),
        windowDays=obj.get("windowDays", 28),
        generatedAt=_when(obj.get("generatedAt")),
        artifactFileName=_text(obj.get("_artifactFileName")),
        usageReloads=obj.get("usageReloads", 0),
        usageAppOpens=obj.get("usageAppOpens", 0),
        usageSheetViews=obj.get("usageSheetViews", 0),
        usageUniqueUsers=obj.get("usageUniqueUsers", 0),
        usageLastReloadAt=_when(obj.get("usageLastReloadAt")),
        usageLastViewedAt=_when(obj.get("usageLastViewedAt")),
        usageClassification=_text(obj.get("usageClassification")),
        connections=obj.get("connections") or [],
        data=obj,
    )


def _script(project: Project, obj: dict) -> QlikAppScript:
    return QlikAppScript(project=project, app_id=obj["appId"], script=obj["script"], data=obj)


# model -> (key field, builder from an API-shaped object, key of such an object)
STORAGE = {
    QlikSpace: ("space_id", _space, lambda obj: obj["id"]),
    QlikApp: ("app_id", _app, lambda obj: obj["item"]["resourceId"]),
    QlikDataConnection: ("connection_id", _data_connection, lambda obj: obj["id"]),
    QlikAppScript: ("app_id", _script, lambda obj: obj["appId"]),
    QlikAppUsage: ("app_id", _usage, lambda obj: obj["appId"]),
}
# Set by the lineage refresh, not by the sync: an upsert leaves them as they are.
NOT_SYNCED = {"nodesCount", "edgesCount", "rootNodeId", "lineageFetched", "lineageSuccess"}


def _update_fields(model) -> list[str]:
    key = STORAGE[model][0]
    return [
        f.name
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in {"project", key, *NOT_SYNCED}
    ]


def _upsert(*, project: Project, model, objects: Iterable[dict]) -> set[str]:
    key, build, key_of = STORAGE[model]
    update_fields = _update_fields(model)
    stored: set[str] = set()
    for batch in batched(objects, BATCH_SIZE):
        # One statement cannot update a row twice: a tenant listing an object twice (a
        # cursor shifting under concurrent changes) keeps its last copy.
        unique = {key_of(obj): obj for obj in batch}
        model.objects.bulk_create(
            [build(project, obj) for obj in unique.values()],
            update_conflicts=True,
            unique_fields=["project", key],
            update_fields=update_fields,
        )
        stored.update(unique)
    return stored


@transaction.atomic
def qlik_rows_store(
    *,
    project: Project,
    rows: dict,
    keep: dict | None = None,
) -> dict[str, int]:
    """Upsert API-shaped objects per model and delete the project's rows that vanished.

    `rows` maps a model to an iterable of objects (streamed: never all in memory);
    `keep` maps a model to the keys that survive besides those stored (the scripts of
    unchanged apps, which a sync does not fetch again). Returns rows stored per table.
    Runs in one transaction, under the caller's RLS identity.
    """
    counts = {}
    for model, objects in rows.items():
        key = STORAGE[model][0]
        stored = _upsert(project=project, model=model, objects=objects)
        survivors = stored | set((keep or {}).get(model, ()))
        model.objects.filter(project=project).exclude(**{f"{key}__in": survivors}).delete()
        counts[model._meta.db_table] = len(stored)
    return counts


def qlik_snapshot_replace(*, project: Project, snapshot: QlikSnapshot) -> dict[str, int]:
    """Make the project's Qlik metadata exactly `snapshot`, in one transaction."""
    return qlik_rows_store(
        project=project,
        rows={
            QlikSpace: snapshot.spaces,
            QlikApp: snapshot.apps,
            QlikDataConnection: snapshot.data_connections,
            QlikAppScript: [
                {"appId": app_id, "script": script} for app_id, script in snapshot.scripts.items()
            ],
            QlikAppUsage: snapshot.usage,
        },
    )


# --- sync runs ---------------------------------------------------------------------------


class SyncAlreadyRunning(QlikError):
    """Another sync of the project is under way (the database allows one)."""


def sync_run_start(
    *, project: Project, trigger: str, requested_by: User | None = None, full: bool = False
) -> QlikSyncRun:
    """Record a running sync; a run whose process died (stale heartbeat) is closed first."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.QLIK_SYNC_STALE_SECONDS)
    QlikSyncRun.objects.filter(
        project=project, status=QlikSyncRun.Status.RUNNING, heartbeat_at__lt=stale_before
    ).update(
        status=QlikSyncRun.Status.FAILED,
        finished_at=now,
        error="Interrupted: the process running this sync ended before it finished.",
    )
    try:
        with transaction.atomic():
            return QlikSyncRun.objects.create(
                project=project, trigger=trigger, requested_by=requested_by, full=full
            )
    except IntegrityError:
        running = QlikSyncRun.objects.filter(project=project, status=QlikSyncRun.Status.RUNNING).first()
        since = f" (run #{running.pk}, started {running.started_at:%Y-%m-%d %H:%M} UTC)" if running else ""
        raise SyncAlreadyRunning(f"A sync of {project} is already running{since}.")


def sync_run_finish(*, run: QlikSyncRun, error: str = "", **values) -> QlikSyncRun:
    run.status = QlikSyncRun.Status.FAILED if error else QlikSyncRun.Status.SUCCEEDED
    run.error = error[:2000]
    run.finished_at = timezone.now()
    for name, value in values.items():
        setattr(run, name, value)
    run.save()
    return run


# --- the sync ----------------------------------------------------------------------------

Progress = Callable[[str, int, int | None], None]  # (phase, done, total or None)


def _no_progress(phase: str, done: int, total: int | None) -> None:
    return None


class _Spool:
    """API objects parked on disk between the fetch and the storage phase (JSON lines)."""

    def __init__(self, directory: str):
        self._directory = Path(directory)
        self._files: dict[str, object] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, obj: dict) -> None:
        if name not in self._files:
            self._files[name] = (self._directory / f"{name}.jsonl").open("w", encoding="utf-8")
        self._files[name].write(json.dumps(obj, separators=(",", ":")) + "\n")
        self.counts[name] = self.counts.get(name, 0) + 1

    def read(self, name: str) -> Iterator[dict]:
        handle = self._files.get(name)
        if handle is None:
            return
        handle.flush()
        with (self._directory / f"{name}.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)


def client_options() -> ClientOptions:
    return ClientOptions(
        timeout=settings.QLIK_TIMEOUT_SECONDS,
        max_retries=settings.QLIK_MAX_RETRIES,
        max_retry_seconds=settings.QLIK_MAX_RETRY_SECONDS,
        requests_per_minute=settings.QLIK_REQUESTS_PER_MINUTE,
        concurrency=settings.QLIK_CONCURRENCY,
        paths={**ClientOptions().paths, **settings.QLIK_API_PATHS},
    )


def qlik_client_for(*, customer) -> QlikClient:
    """A client with the customer's decrypted key (raises UndecryptableSecret naming it)."""
    api_key = customer.api_key
    if not api_key:
        raise QlikCredentialsRejected(f"{customer} has no Qlik API key: set one on the customer first.")
    return QlikClient(customer.tenant_url, api_key, options=client_options())


def customer_connection_test(*, customer) -> str:
    """One cheap authenticated call; returns what the tenant said, in words."""
    with qlik_client_for(customer=customer) as client:
        me = client.me()
    return f"Connected to {customer.tenant_url} as {me.get('name') or me.get('id') or 'the API user'}."


def _when_text(value) -> str:
    return value if isinstance(value, str) else ""


@dataclass
class _Fetch:
    """What a sync learnt before storing; small per app, never the payloads."""

    usage: dict[str, AppUsageInputs] = field(default_factory=dict)
    app_ids: set[str] = field(default_factory=set)
    fetched: int = 0
    carried: int = 0
    notes: list[str] = field(default_factory=list)


def _listing_spool(pages, spool: _Spool, name: str, progress: Progress, phase: str, answered: str) -> None:
    """Spool every object of a listing (spaces, data connections); each must have an id."""
    for page in pages:
        for obj in page:
            if not isinstance(obj.get("id"), str):
                raise QlikBadResponse(f"{answered} without an id")
            spool.add(name, obj)
        progress(phase, spool.counts.get(name, 0), None)


def _reloads_collect(client: QlikClient, fetch: _Fetch, since: str, progress: Progress) -> None:
    """The reload listing, newest first, read until the window starts."""
    seen = 0
    for page in client.reloads():
        for reload in page:
            app_id, created = reload.get("appId"), _when_text(reload.get("creationTime"))
            if not isinstance(app_id, str):
                raise QlikBadResponse("/reloads answered a reload without an appId")
            inputs = fetch.usage.setdefault(app_id, AppUsageInputs())
            if not inputs.last_reload_id:
                inputs.last_reload_id = str(reload.get("id") or "")
                inputs.last_reload_end = reload.get("endTime")
            if created >= since:
                inputs.reloads_in_window += 1
                if reload.get("status") == "FAILED":
                    inputs.failed_reload_days.append(created[:10])
        seen += len(page)
        progress("reloads", seen, None)
        if page and _when_text(page[-1].get("creationTime")) < since:
            break


def _audits_collect(client: QlikClient, fetch: _Fetch, since: str, until: str, progress: Progress) -> None:
    seen = 0
    try:
        for page in client.audits(event_type=SHEET_VIEW_EVENT, since=since, until=until):
            for event in page:
                app_id = (event.get("data") or {}).get("appId")
                if not isinstance(app_id, str):
                    continue
                inputs = fetch.usage.setdefault(app_id, AppUsageInputs())
                inputs.sheet_views += 1
                if event.get("userId"):
                    inputs.viewers.add(str(event["userId"]))
                when = _when_text(event.get("eventTime"))
                if when and (inputs.last_viewed is None or when > inputs.last_viewed):
                    inputs.last_viewed = when
            seen += len(page)
            progress("audits", seen, None)
    except QlikCredentialsRejected as exc:
        # Reading audits takes a right many keys lack: usage then rests on item views.
        fetch.notes.append(f"Sheet views not counted: {exc}")


def _connections_used(metadata: dict | None) -> list[str]:
    statements = (metadata or {}).get("statements") or []
    return sorted({s["connection"] for s in statements if isinstance(s, dict) and s.get("connection")})


def _app_details(client: QlikClient, item: dict, inputs: AppUsageInputs) -> dict:
    app_id = item["resourceId"]
    details = {"attributes": client.app_attributes(app_id), "script": client.app_script(app_id)}
    details["reloadMetadata"] = (
        client.reload_metadata(app_id, inputs.last_reload_id) if inputs.last_reload_id else None
    )
    details["lineageGraph"] = (
        client.lineage_graph(f"qri:app:sense://{app_id}") if settings.QLIK_LINEAGE_API else None
    )
    return details


def _unchanged(previous: dict | None, item: dict, inputs: AppUsageInputs) -> bool:
    if not previous:
        return False
    before = previous.get("item") or {}
    return (
        before.get("resourceUpdatedAt") == item.get("resourceUpdatedAt")
        and before.get("resourceReloadEndTime") == item.get("resourceReloadEndTime")
        and (previous.get("lastReloadId") or "") == inputs.last_reload_id
    )


def _apps_collect(
    *, client, project, actor, run, fetch: _Fetch, spool: _Spool, full: bool, progress: Progress, now: str
) -> None:
    window_days, threshold = settings.QLIK_USAGE_WINDOW_DAYS, settings.QLIK_LOW_USE_THRESHOLD
    artifact_file_name = getattr(client, "artifact_file_name", None)
    for page in client.app_items():
        items = [item for item in page if item.get("resourceType", "app") == "app"]
        for item in items:
            if not isinstance(item.get("resourceId"), str):
                raise QlikBadResponse("/items answered an app item without a resourceId")
        guids = [item["resourceId"] for item in items]
        with acting_as(actor, project=project):
            previous = dict(
                QlikApp.objects.filter(project=project, app_id__in=guids).values_list("app_id", "data")
            )
            QlikSyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
        changed = [
            item
            for item in items
            if full
            or not _unchanged(
                previous.get(item["resourceId"]), item, fetch.usage.get(item["resourceId"], AppUsageInputs())
            )
        ]
        details = dict(
            zip(
                [item["resourceId"] for item in changed],
                client.parallel(
                    lambda item: _app_details(
                        client, item, fetch.usage.get(item["resourceId"], AppUsageInputs())
                    ),
                    changed,
                ),
                strict=True,
            )
        )
        for item in items:
            guid = item["resourceId"]
            inputs = fetch.usage.pop(guid, AppUsageInputs())
            if guid in details:
                fresh = details[guid]
                attributes, metadata = fresh["attributes"], fresh["reloadMetadata"]
                lineage_graph = fresh["lineageGraph"]
                spool.add("scripts", {"appId": guid, "script": fresh["script"]})
                fetch.fetched += 1
            else:
                attributes = previous[guid].get("attributes") or {}
                metadata = previous[guid].get("reloadMetadata")
                lineage_graph = previous[guid].get("lineageGraph")
                fetch.carried += 1
            spool.add(
                "apps",
                {
                    "item": item,
                    "attributes": attributes,
                    "reloadMetadata": metadata,
                    "lineageGraph": lineage_graph,
                    "lastReloadId": inputs.last_reload_id,
                },
            )
            usage = usage_row(
                item=item,
                inputs=inputs,
                connections=_connections_used(metadata),
                window_days=window_days,
                generated_at=now,
                low_use_threshold=threshold,
            )
            if artifact_file_name:  # an offline import names the file each app came from
                usage["_artifactFileName"] = artifact_file_name(guid)
            spool.add("usage", usage)
            fetch.app_ids.add(guid)
        progress("apps", len(fetch.app_ids), None)


def qlik_project_sync(
    *,
    project: Project,
    actor: User,
    trigger: str = QlikSyncRun.Trigger.COMMAND,
    requested_by: User | None = None,
    full: bool = False,
    progress: Progress = _no_progress,
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
    stats_client = client
    try:
        with acting_as(actor, project=project):
            owned_client = client or qlik_client_for(customer=project.customer)
        stats_client = owned_client
        with owned_client, tempfile.TemporaryDirectory(prefix="qlik-sync-") as directory:
            spool, fetch = _Spool(directory), _Fetch()
            moment = timezone.now()
            now = moment.isoformat()
            since = (moment - timedelta(days=settings.QLIK_USAGE_WINDOW_DAYS)).isoformat()
            _listing_spool(
                owned_client.spaces(), spool, "spaces", progress, "spaces", "/spaces answered a space"
            )
            _listing_spool(
                owned_client.data_connections(),
                spool,
                "connections",
                progress,
                "data connections",
                "/data-connections answered a connection",
            )
            _reloads_collect(owned_client, fetch, since, progress)
            _audits_collect(owned_client, fetch, since, now, progress)
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
                counts = qlik_rows_store(
                    project=project,
                    rows={
                        QlikSpace: spool.read("spaces"),
                        QlikDataConnection: spool.read("connections"),
                        QlikApp: spool.read("apps"),
                        QlikAppScript: spool.read("scripts"),
                        QlikAppUsage: spool.read("usage"),
                    },
                    keep={QlikAppScript: fetch.app_ids},
                )
                includes = owned_client.include_files() if hasattr(owned_client, "include_files") else {}
                lineage_counts, lineage_digest = lineage_project_refresh(
                    project=project, includes=includes, previous_digest=previous_digest
                )
                if lineage_digest == previous_digest:
                    fetch.notes.append("Lineage graph kept: nothing it is built from has changed.")
                counts.update(lineage_counts)
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
            run = sync_run_finish(run=run, error=message, **_client_stats(stats_client))
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
            lineage_digest=lineage_digest,
            notes="\n".join(fetch.notes),
            **_client_stats(owned_client),
        )
        if abs(counts.get("qlik_apps", 0) - apps_before) >= settings.QLIK_STATISTICS_REFRESH_APPS:
            run = sync_statistics_refresh(run=run)
    return run


class SyncedTablesAnalyze(Func):
    """ANALYZE of the synced tables, as their owner (qlik migration 0010); returns when."""

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


def _client_stats(client: QlikClient | None) -> dict:
    if client is None:
        return {}
    stats = client.stats
    return {
        "api_calls": stats.calls,
        "rate_limited": stats.rate_limited,
        "retries": stats.retries,
        "bytes_received": stats.bytes,
    }


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
