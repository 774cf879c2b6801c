"""Writes for Qlik metadata: a project's snapshot, stored from API-shaped objects."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.dateparse import parse_datetime

from customers.models import Project
from qlik.models import QlikApp, QlikAppScript, QlikAppUsage, QlikDataConnection, QlikSpace

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


@transaction.atomic
def qlik_snapshot_replace(*, project: Project, snapshot: QlikSnapshot) -> dict[str, int]:
    """Replace the project's Qlik metadata with `snapshot` in one transaction.

    Either the whole new snapshot is stored or, on any error, the previous one stays.
    Returns the number of rows stored per table.
    """
    rows = {
        QlikSpace: [_space(project, obj) for obj in snapshot.spaces],
        QlikApp: [_app(project, obj) for obj in snapshot.apps],
        QlikDataConnection: [_data_connection(project, obj) for obj in snapshot.data_connections],
        QlikAppScript: [
            QlikAppScript(project=project, app_id=app_id, script=script, data={"script": script})
            for app_id, script in snapshot.scripts.items()
        ],
        QlikAppUsage: [_usage(project, obj) for obj in snapshot.usage],
    }
    counts = {}
    for model, objects in rows.items():
        model.objects.filter(project=project).delete()
        model.objects.bulk_create(objects, batch_size=1000)
        counts[model._meta.db_table] = len(objects)
    return counts
