"""API objects as rows: each Qlik payload mapped to its model's fields, raw payload kept in
`data`. Rows are plain dicts (field attname → value) for the bulk write path (atlas.bulk),
which builds no model instance per row (its constructor was the costliest step of a write).

Real tenants put an app's attributes in the item's `resourceAttributes` (name, ownerId,
spaceId, published ...); `GET /apps/{id}` repeats them. Every field is read from where
the item has it, then from the attributes, so an app listed with only
`resourceAttributes` keeps its name, space and owner.
"""

from django.utils.dateparse import parse_datetime

from customers.models import Project

# Never stored, even if a payload carries it (only the single-connection GET does).
CONNECTION_SECRET_KEYS = frozenset({"qConnectionSecret", "qPassword"})
# What the sync needs of an app beyond its item; missing ones are asked of GET /apps/{id}.
NEEDED_ATTRIBUTES = ("name", "ownerId", "published")


def _when(value):
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:  # a well-formed but impossible date, e.g. month 13
        return None


def _text(value) -> str:
    return "" if value is None else str(value)


def _bool(value) -> bool | None:
    return value if isinstance(value, bool) else None


def _int(value) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def item_attributes(item: dict) -> dict:
    attributes = item.get("resourceAttributes")
    return attributes if isinstance(attributes, dict) else {}


def attributes_missing(item: dict) -> bool:
    """Whether the item lacks something the sync needs (then GET /apps/{id} is asked)."""
    attributes = item_attributes(item)
    return any(item.get(key) is None and attributes.get(key) is None for key in NEEDED_ATTRIBUTES)


def connection_id(obj: dict):
    """A connection's id; Qlik's connection type also names it `qID`, and some answers
    carry only that."""
    return obj.get("id") or obj.get("qID")


def space_row(project: Project, obj: dict) -> dict:
    return dict(
        project_id=project.pk,
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


def user_row(project: Project, obj: dict) -> dict:
    return dict(
        project_id=project.pk,
        user_id=obj["id"],
        name=_text(obj.get("name")),
        email=_text(obj.get("email")),
        status=_text(obj.get("status")),
        data={key: obj.get(key) for key in ("id", "name", "email", "status", "subject") if key in obj},
    )


def app_row(project: Project, obj: dict) -> dict:
    item = obj["item"]
    attributes = {**item_attributes(item), **(obj.get("attributes") or {})}
    return dict(
        project_id=project.pk,
        app_id=item["resourceId"],
        appName=_text(item.get("name") or attributes.get("name")),
        spaceId=item.get("spaceId") or attributes.get("spaceId") or None,
        ownerId=_text(item.get("ownerId") or attributes.get("ownerId"))[:64],
        published=_bool(attributes.get("published")),
        status=_text(item.get("resourceReloadStatus"))[:32],
        fileName=_text(attributes.get("fileName")),
        data=obj,
    )


def dataset_row(project: Project, item: dict) -> dict:
    attributes = item_attributes(item)
    return dict(
        project_id=project.pk,
        dataset_id=item["id"],
        name=_text(item.get("name") or attributes.get("name")),
        resourceSubType=_text(item.get("resourceSubType"))[:64],
        resourceId=_text(item.get("resourceId"))[:64],
        spaceId=item.get("spaceId") or attributes.get("spaceId") or None,
        ownerId=_text(item.get("ownerId") or attributes.get("ownerId"))[:64],
        qri=_text(attributes.get("qri")),
        secureQri=_text(attributes.get("secureQri")),
        technicalName=_text(attributes.get("technicalName")),
        dataStoreType=_text(attributes.get("dataStoreType"))[:64],
        size=_int(attributes.get("size")),
        createdAt=_when(item.get("createdAt") or attributes.get("createdTime")),
        updatedAt=_when(item.get("updatedAt") or attributes.get("lastModifiedTime")),
        data=item,
    )


def data_connection_row(project: Project, obj: dict) -> dict:
    obj = {key: value for key, value in obj.items() if key not in CONNECTION_SECRET_KEYS}
    return dict(
        project_id=project.pk,
        connection_id=connection_id(obj),
        qlik_id=_text(connection_id(obj)),
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
        qSeparateCredentials=_bool(obj.get("qSeparateCredentials")),
        data=obj,
    )


def usage_row(project: Project, obj: dict) -> dict:
    return dict(
        project_id=project.pk,
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
        # generatedAt has its column; in `data` it would make every row differ every sync.
        data={key: value for key, value in obj.items() if key != "generatedAt"},
    )


def script_row(project: Project, obj: dict) -> dict:
    return dict(project_id=project.pk, app_id=obj["appId"], script=obj["script"], data=obj)
