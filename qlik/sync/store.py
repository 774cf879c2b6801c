"""Storing API-shaped objects: COPY into staging, one upsert of what changed, one delete.

Per table the rows are COPY-ed into a staging table and written by one
`INSERT … ON CONFLICT (project_id, <key>) DO UPDATE … WHERE` the row changed, then one
DELETE removes what vanished (atlas.bulk): a row that did not change is not written at
all. The whole store runs in one transaction, so readers see the old snapshot or the new
one, never a mix, and a failure at any point leaves the old one whole.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models, transaction

from atlas.bulk import StagedUpsert
from customers.models import Project
from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    QlikDataConnection,
    QlikDataset,
    QlikSpace,
    QlikUser,
)
from qlik.sync import payloads


@dataclass
class QlikSnapshot:
    """What one sync (or import) of a project brings, shaped as the API returns it."""

    spaces: list[dict] = field(default_factory=list)  # /spaces objects
    apps: list[dict] = field(default_factory=list)  # {"item": /items object, "attributes": ...}
    data_connections: list[dict] = field(default_factory=list)  # /data-connections objects
    scripts: dict[str, str] = field(default_factory=dict)  # app GUID -> current script
    usage: list[dict] = field(default_factory=list)  # usage aggregates (see QlikAppUsage)
    datasets: list[dict] = field(default_factory=list)  # /items?resourceType=dataset objects
    users: list[dict] = field(default_factory=list)  # /users objects


# model -> (key field, builder from an API-shaped object, key of such an object)
STORAGE = {
    QlikSpace: ("space_id", payloads.space_row, lambda obj: obj["id"]),
    QlikApp: ("app_id", payloads.app_row, lambda obj: obj["item"]["resourceId"]),
    QlikDataConnection: ("connection_id", payloads.data_connection_row, payloads.connection_id),
    QlikDataset: ("dataset_id", payloads.dataset_row, lambda obj: obj["id"]),
    QlikUser: ("user_id", payloads.user_row, lambda obj: obj["id"]),
    QlikAppScript: ("app_id", payloads.script_row, lambda obj: obj["appId"]),
    QlikAppUsage: ("app_id", payloads.usage_row, lambda obj: obj["appId"]),
}
# Set by the lineage refresh, not by the sync: an upsert leaves them as they are.
NOT_SYNCED = {"nodesCount", "edgesCount", "rootNodeId", "lineageFetched", "lineageSuccess"}
# When the numbers were computed is no reason to write a row whose numbers did not change.
NOT_COMPARED = {QlikAppUsage: {"generatedAt"}}


def _update_fields(model) -> list[str]:
    key = STORAGE[model][0]
    return [
        f.name
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in {"project", key, *NOT_SYNCED}
    ]


def _bounded(model, key: str) -> list[tuple[str, int]]:
    """The bounded text columns of `model` but its key: (attname, max length)."""
    return [
        (f.attname, f.max_length)
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField) and f.max_length and f.name != key
    ]


def _clipped(row: dict, bounded: list[tuple[str, int]]) -> dict:
    """Text that does not fit a bounded column is cut, so no length a tenant sends fails
    the store (the raw payload in `data` keeps it whole). Keys are checked when listed."""
    for name, limit in bounded:
        value = row.get(name)
        if isinstance(value, str) and len(value) > limit:
            row[name] = value[:limit]
    return row


def _staged(project: Project, model, objects: Iterable[dict], key: str) -> tuple[StagedUpsert, set[str]]:
    _, build, key_of = STORAGE[model]
    update = _update_fields(model)
    upsert = StagedUpsert(
        model,
        key=("project", key),
        update=update,
        compare=[name for name in update if name not in NOT_COMPARED.get(model, ())],
    )
    stored: set[str] = set()
    bounded = _bounded(model, key)

    def rows():
        for obj in objects:
            stored.add(key_of(obj))
            yield _clipped(build(project, obj), bounded)

    upsert.add(rows())
    return upsert, stored


@transaction.atomic
def qlik_rows_store(*, project: Project, rows: dict, keep: dict | None = None) -> dict[str, int]:
    """Upsert API-shaped objects per model and delete the project's rows that vanished.

    `rows` maps a model to an iterable of objects (streamed: never all in memory);
    `keep` maps a model to the keys that survive besides those stored (the scripts of
    unchanged apps, which a sync does not fetch again). Returns rows stored per table,
    under "rows_written" how many rows were actually inserted, updated or deleted, and under
    "write_seconds" the time spent writing them.
    Runs in one transaction, under the caller's RLS identity.
    """
    counts = {}
    written, seconds = 0, 0.0
    for model, objects in rows.items():
        key = STORAGE[model][0]
        upsert, stored = _staged(project, model, objects, key)
        result = upsert.apply(
            delete_scope={"project": project.pk},
            keep=(keep or {}).get(model, ()),
            unique=len(stored) == upsert.result.staged,  # no key listed twice
        )
        counts[model._meta.db_table] = len(stored)
        written += result.written + result.deleted
        seconds += result.seconds
    counts["rows_written"] = written
    counts["write_seconds"] = seconds
    return counts


def qlik_snapshot_replace(*, project: Project, snapshot: QlikSnapshot) -> dict[str, int]:
    """Make the project's Qlik metadata exactly `snapshot`, in one transaction."""
    return qlik_rows_store(
        project=project,
        rows={
            QlikSpace: snapshot.spaces,
            QlikApp: snapshot.apps,
            QlikDataConnection: snapshot.data_connections,
            QlikDataset: snapshot.datasets,
            QlikUser: snapshot.users,
            QlikAppScript: [
                {"appId": app_id, "script": script} for app_id, script in snapshot.scripts.items()
            ],
            QlikAppUsage: snapshot.usage,
        },
    )
