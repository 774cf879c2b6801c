"""Fetching a tenant: listings page by page, then at most two calls per new or changed app.

Pages are spooled to a temporary file as they arrive (memory stays flat however many apps
there are); the database transaction opens only for the storage phase.

Per new or changed app the sync asks:
- its script (`/apps/{id}/scripts/current`), and
- one source of its lineage facts: the reload metadata of its last reload where the
  reload listing named one (connections, tables and the files it loaded and stored), else
  Qlik's lineage API (which may be a special, slower rate tier on real tenants) — and
  neither for an app never reloaded, since lineage is captured by reloads;
- `/apps/{id}` only where the item lacks an attribute the sync needs (see payloads).
Unchanged apps (same update and reload times, same last reload) cost nothing beyond the
listings. A problem with one call is recorded (see problems) and costs only that detail.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from django.conf import settings

from qlik.client import SHEET_VIEW_EVENT, QlikBadResponse, QlikClient, QlikCredentialsRejected, QlikError
from qlik.sync.payloads import attributes_missing, connection_id, item_attributes
from qlik.sync.problems import SyncProblems
from qlik.usage import AppUsageInputs

Progress = Callable[[str, int, int | None], None]  # (phase, done, total or None)
MAX_KEY_LENGTH = 64  # the key columns of the qlik tables
RETRIED_STATUSES = ("unavailable", "malformed")  # worth asking again at the next sync


def no_progress(phase: str, done: int, total: int | None) -> None:
    return None


JSON_MODULE_LINE = b"J"  # (orjson's lines are objects: they start with "{")


class Spool:
    """API objects parked on disk between the fetch and the storage phase (JSON lines, by
    orjson: the storage phase reads every object back, and the json module's decoder was a
    third of writing an app)."""

    def __init__(self, directory: str):
        self._directory = Path(directory)
        self._files: dict[str, object] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, obj: dict) -> None:
        if name not in self._files:
            self._files[name] = (self._directory / f"{name}.jsonl").open("wb")
        try:
            line = orjson.dumps(obj)
        except (orjson.JSONEncodeError, TypeError):  # an integer beyond 64 bits: the json
            # module's, marked, as orjson would read such an integer back as a float
            line = JSON_MODULE_LINE + json.dumps(obj, separators=(",", ":")).encode()
        self._files[name].write(line + b"\n")
        self.counts[name] = self.counts.get(name, 0) + 1

    def read(self, name: str) -> Iterator[dict]:
        handle = self._files.get(name)
        if handle is None:
            return
        handle.flush()
        with (self._directory / f"{name}.jsonl").open("rb") as lines:
            for line in lines:
                if line.startswith(JSON_MODULE_LINE):
                    yield json.loads(line[len(JSON_MODULE_LINE) :])
                else:
                    yield orjson.loads(line)


@dataclass
class Fetch:
    """What a sync learnt before storing; small per app, never the payloads."""

    usage: dict[str, AppUsageInputs] = field(default_factory=dict)
    app_ids: set[str] = field(default_factory=set)
    fetched: int = 0
    carried: int = 0
    audits_counted: bool = True
    notes: list[str] = field(default_factory=list)
    problems: SyncProblems = field(default_factory=SyncProblems)


def listed_key(value, answered: str) -> str:
    """An object's id as a listing gave it: a string that fits the key columns, or a
    QlikBadResponse naming what was wrong."""
    if not isinstance(value, str) or not value:
        raise QlikBadResponse(f"{answered} without an id")
    if len(value) > MAX_KEY_LENGTH:
        raise QlikBadResponse(f"{answered} whose id is {len(value)} characters long: {value[:80]}…")
    return value


def listing_spool(
    pages, spool: Spool, name: str, progress: Progress, phase: str, answered: str, key=None
) -> None:
    """Spool every object of a listing (spaces, connections, datasets); each must have an id."""
    key = key or (lambda obj: obj.get("id"))
    for page in pages:
        for obj in page:
            listed_key(key(obj), answered)
            spool.add(name, obj)
        progress(phase, spool.counts.get(name, 0), None)


def connections_spool(client, spool: Spool, progress: Progress) -> None:
    listing_spool(
        client.data_connections(),
        spool,
        "connections",
        progress,
        "data connections",
        "/data-connections answered a connection",
        key=connection_id,
    )


def datasets_spool(client, spool: Spool, progress: Progress) -> None:
    if not hasattr(client, "dataset_items"):  # an offline import without datasets
        return
    pages = (
        [item for item in page if item.get("resourceType", "dataset") == "dataset"]
        for page in client.dataset_items()
    )
    listing_spool(pages, spool, "datasets", progress, "datasets", "/items answered a dataset")


def users_spool(client, spool: Spool, fetch: "Fetch", progress: Progress) -> None:
    """The tenant's users, for owners' names. Listing users takes a right many keys lack:
    a 403 is noted (owners then show by id), never a failed sync."""
    if not hasattr(client, "users"):  # an offline import without users
        return
    try:
        listing_spool(client.users(), spool, "users", progress, "users", "/users answered a user")
    except QlikCredentialsRejected:
        raise
    except QlikError as exc:
        if exc.status not in (403, 404):
            raise
        fetch.notes.append(f"Owners shown by id: the key may not list users ({exc.status} on /users).")


def _when_text(value) -> str:
    return value if isinstance(value, str) else ""


def reloads_collect(client: QlikClient, fetch: Fetch, since: str, progress: Progress) -> None:
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


def audits_collect(client: QlikClient, fetch: Fetch, since: str, until: str, progress: Progress) -> None:
    """Sheet-view events of the window. Reading audits takes a right many keys lack (403):
    usage then rests on the items' view counts, and the run says so."""
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
    except QlikCredentialsRejected:
        raise
    except QlikError as exc:
        if exc.status not in (403, 404):
            raise
        fetch.audits_counted = False
        for inputs in fetch.usage.values():  # a partial count would undercount: none at all
            inputs.sheet_views, inputs.viewers, inputs.last_viewed = 0, set(), None
        fetch.notes.append(
            f"Sheet views not counted: the key may not read audit events ({exc.status} on /audits); "
            "usage rests on the items' view counts."
        )


@dataclass
class AppDetails:
    """What the per-app calls gave for one app; None where a call failed or was not made."""

    attributes: dict
    script: str | None = None
    reload_metadata: dict | None = None
    lineage_graph: dict | None = None
    problems: list[dict] = field(default_factory=list)


def app_details_fetch(client, item: dict, inputs: AppUsageInputs, problems: SyncProblems) -> AppDetails:
    """At most two calls for an app whose item carries its attributes (see module docstring)."""
    guid, name = item["resourceId"], str(item.get("name") or item_attributes(item).get("name") or "")
    details = AppDetails(attributes=dict(item_attributes(item)))
    gone = False

    def ask(endpoint: str, call):
        nonlocal gone
        try:
            answer = call()
        except QlikCredentialsRejected:
            raise
        except QlikError as exc:
            details.problems.append(problems.failed(app_id=guid, app_name=name, endpoint=endpoint, error=exc))
            # 404/410 from the app itself: it was deleted after the listing; ask no more.
            gone = gone or (endpoint in ("attributes", "script") and exc.status in (404, 410))
            return None
        problems.answered(endpoint)
        return answer

    if attributes_missing(item):
        fetched = ask("attributes", lambda: client.app_attributes(guid))
        details.attributes.update(fetched or {})
    if not gone:
        details.script = ask("script", lambda: client.app_script(guid))
    if gone:
        return details
    if inputs.last_reload_id and problems.asking("reload_metadata"):
        details.reload_metadata = ask(
            "reload_metadata", lambda: client.reload_metadata(guid, inputs.last_reload_id)
        )
    elif settings.QLIK_LINEAGE_API and item.get("resourceReloadEndTime") and problems.asking("lineage"):
        details.lineage_graph = ask("lineage", lambda: client.lineage_graph(f"qri:app:sense://{guid}"))
    return details


def app_unchanged(previous: dict | None, item: dict, inputs: AppUsageInputs) -> bool:
    """Whether a stored app may be carried over without a call: same update and reload
    times, same last reload, and no problem last time that a retry could cure."""
    if not previous:
        return False
    before = previous.get("item") or {}
    if any(problem.get("status") in RETRIED_STATUSES for problem in previous.get("problems") or []):
        return False
    return (
        before.get("resourceUpdatedAt") == item.get("resourceUpdatedAt")
        and before.get("resourceReloadEndTime") == item.get("resourceReloadEndTime")
        and (previous.get("lastReloadId") or "") == inputs.last_reload_id
    )
