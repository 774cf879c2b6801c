"""Reads for Qlik metadata, with the schema document's logical joins."""

import difflib
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector, TrigramSimilarity
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Project
from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    QlikChange,
    QlikDataConnection,
    QlikDataset,
    QlikScriptVersion,
    QlikSpace,
    QlikSyncRun,
    QlikUser,
)


def app_list(*, project: Project) -> QuerySet[QlikApp]:
    """A project's apps with their space name, usage classification and script presence.

    Apps join spaces on `spaceId` (materialized), falling back to the legacy `space_id`
    columns of older rows (correlated subqueries: `spaceId` is not unique, so no relation);
    usage and scripts join on `(project_id, app_id)` — usage as a LEFT JOIN through the
    `QlikApp.usage` relation, scripts as an EXISTS; the owner's name from the tenant's users
    listing. One statement whatever the row count.
    """
    same_project = {"project_id": OuterRef("project_id")}
    same_app = {**same_project, "app_id": OuterRef("app_id")}
    spaces = QlikSpace.objects.filter(**same_project)
    return (
        QlikApp.objects.filter(project=project)
        .annotate(
            space_name=Coalesce(
                Subquery(spaces.filter(spaceId=OuterRef("spaceId")).values("spaceName")[:1]),
                Subquery(spaces.filter(space_id=OuterRef("space_id")).values("spaceName")[:1]),
            ),
            usage_classification=F("usage__usageClassification"),
            last_viewed_at=F("usage__usageLastViewedAt"),
            last_reload_at=F("usage__usageLastReloadAt"),
            has_script=Exists(QlikAppScript.objects.filter(**same_app)),
            owner_name=Subquery(
                QlikUser.objects.filter(**same_project, user_id=OuterRef("ownerId")).values("name")[:1]
            ),
        )
        .order_by("appName", "app_id")
    )


def sync_run_list(**filters) -> QuerySet[QlikSyncRun]:
    """Sync runs matching `filters`, newest first."""
    return QlikSyncRun.objects.filter(**filters).order_by("-started_at", "-id")


def last_successful_sync(*, project: Project) -> QlikSyncRun | None:
    return sync_run_list(project=project, status=QlikSyncRun.Status.SUCCEEDED).first()


def sync_state(*, project: Project) -> dict:
    """What the project's data stands on: the last successful sync (its problems, in words)
    and, when the newest run failed after it, that run and why. Two queries."""
    latest = sync_run_list(project=project).exclude(status=QlikSyncRun.Status.RUNNING).first()
    succeeded = (
        latest
        if latest and latest.status == QlikSyncRun.Status.SUCCEEDED
        else last_successful_sync(project=project)
    )
    return {
        "succeeded": succeeded,
        "failed_since": latest if latest and latest.status == QlikSyncRun.Status.FAILED else None,
        "problem_lines": succeeded.problem_lines if succeeded else [],
    }


def last_sync_annotate(*, queryset: QuerySet, project_path: str) -> QuerySet:
    """Annotate `last_sync_status` and `last_sync_at`: the newest run of the row's projects.

    `project_path` leads from a run to the annotated row: "project" for projects,
    "project__customer" for customers. One correlated subquery each, no query per row.
    """
    latest = sync_run_list(**{project_path: OuterRef("pk")})
    return queryset.annotate(
        last_sync_status=Subquery(latest.values("status")[:1]),
        last_sync_at=Subquery(latest.values("started_at")[:1]),
    )


def space_list(*, project: Project) -> QuerySet[QlikSpace]:
    return QlikSpace.objects.filter(project=project)


def data_connection_list(*, project: Project) -> QuerySet[QlikDataConnection]:
    return QlikDataConnection.objects.filter(project=project)


def dataset_list(*, project: Project) -> QuerySet[QlikDataset]:
    """A project's catalog datasets (data files and connection-based ones), by name."""
    return QlikDataset.objects.filter(project=project).order_by("name", "dataset_id")


def usage_list(*, project: Project) -> QuerySet[QlikAppUsage]:
    return QlikAppUsage.objects.filter(project=project)


def script_list(*, project: Project) -> QuerySet[QlikAppScript]:
    return QlikAppScript.objects.filter(project=project)


# --- dashboards -------------------------------------------------------------------------------


def project_overview(*, project: Project) -> dict:
    """The dashboard's summary cards: counts and the last sync, in one query."""
    same_project = {"project_id": OuterRef("pk")}

    def count(model) -> Subquery:
        rows = model.objects.filter(**same_project).order_by().values("project_id")
        return Subquery(rows.annotate(n=Count("row_id")).values("n")[:1])

    row = (
        last_sync_annotate(queryset=Project.objects.filter(pk=project.pk), project_path="project")
        .annotate(apps=count(QlikApp), spaces=count(QlikSpace), connections=count(QlikDataConnection))
        .values("apps", "spaces", "connections", "last_sync_status", "last_sync_at")
        .get()
    )
    return {
        key: (value or 0) if key in ("apps", "spaces", "connections") else value for key, value in row.items()
    }


def usage_classification_counts(*, project: Project) -> list[tuple[str, int]]:
    """Apps per usage class, in the classification's order (one grouped query)."""
    counts = dict(
        usage_list(project=project).order_by().values_list("usageClassification").annotate(n=Count("row_id"))
    )
    return [(label, counts.get(value, 0)) for value, label in QlikAppUsage.Classification.choices]


def apps_top_viewed(*, project: Project, limit: int = 10) -> QuerySet[QlikAppUsage]:
    """The most used apps over the window: app opens plus sheet views."""
    return (
        usage_list(project=project)
        .annotate(views=F("usageAppOpens") + F("usageSheetViews"))
        .filter(views__gt=0)
        .order_by("-views", "appName")[:limit]
    )


def reload_failures_by_day(*, project: Project) -> list[tuple[str, int]]:
    """Failed reloads per day over the usage window (days without failures included)."""
    failures = Counter(
        day
        for days in usage_list(project=project)
        .exclude(data__reloadFailures=[])
        .filter(data__has_key="reloadFailures")
        .values_list("data__reloadFailures", flat=True)
        for day in days or []
    )
    today = timezone.now().date()
    window = settings.QLIK_USAGE_WINDOW_DAYS
    days = [(today - timedelta(days=offset)).isoformat() for offset in range(window - 1, -1, -1)]
    return [(day, failures.get(day, 0)) for day in days]


def connections_by_type(*, project: Project) -> list[tuple[str, int]]:
    return list(
        data_connection_list(project=project)
        .order_by()
        .values_list("qType")
        .annotate(n=Count("row_id"))
        .order_by("-n", "qType")
    )


def apps_to_clean_up(*, project: Project) -> QuerySet[QlikApp]:
    """Unused, never reloaded, or not reloaded for QLIK_STALE_DAYS: what to tidy first."""
    stale_before = timezone.now() - timedelta(days=settings.QLIK_STALE_DAYS)
    return (
        app_list(project=project)
        .filter(
            Q(usage_classification__in=["unused", "never_reloaded"])
            | Q(last_reload_at__lt=stale_before)
            | Q(last_reload_at__isnull=True)
        )
        .order_by("last_viewed_at", "last_reload_at", "appName", "app_id")
    )


# --- search -------------------------------------------------------------------------------------

SEARCH_MIN_SIMILARITY = 0.3  # pg_trgm's default threshold for the % operator (indexed)
SEARCH_MAX_WORDS = 5


class WordDistance(Func):
    """Edits from `word` to the nearest word of the field (qlik migration 0007)."""

    function = "atlas_private.word_distance"
    output_field = IntegerField()


def _edits_allowed(word: str) -> int:
    # As search engines do: exact up to 3 letters, one edit at 4, two from 5 (a transposed
    # pair, "slaes" for "sales", is two edits).
    return 0 if len(word) <= 3 else 1 if len(word) == 4 else 2


def _search(queryset: QuerySet, field: str, query: str, limit: int) -> list:
    """Rows whose `field` is trigram-similar to `query`, matches its words, or has a word
    within a few edits of each of its words (typos). Best trigram match first."""
    words = [word for word in re.split(r"\W+", query.lower()) if word][:SEARCH_MAX_WORDS]
    distances = {f"edits_{n}": WordDistance(field, Value(word)) for n, word in enumerate(words)}
    near_every_word = Q(*(Q(**{f"edits_{n}__lte": _edits_allowed(w)}) for n, w in enumerate(words)))
    return list(
        queryset.alias(**distances)
        .annotate(similarity=TrigramSimilarity(field, query), vector=SearchVector(field, config="simple"))
        .filter(
            Q(**{f"{field}__trigram_similar": query})
            | Q(vector=SearchQuery(query, config="simple"))
            | (near_every_word if words else Q(pk__in=[]))
        )
        .order_by("-similarity", field)[:limit]
    )


def project_search(*, project: Project, query: str, limit: int = 20) -> dict[str, list]:
    """Apps, spaces, connections, datasets and lineage nodes matching `query`, typos forgiven.

    PostgreSQL full-text search on words plus pg_trgm similarity, both served by GIN
    indexes; five queries whatever the project's size.
    """
    from lineage.selectors import lineage_node_list  # here: lineage.selectors imports this module

    query = query.replace("\x00", "").strip()[:200]
    if not query:
        return {"apps": [], "spaces": [], "connections": [], "datasets": [], "nodes": []}
    results = {
        "apps": _search(QlikApp.objects.filter(project=project), "appName", query, limit),
        "spaces": _search(space_list(project=project), "spaceName", query, limit),
        "connections": _search(data_connection_list(project=project), "qName", query, limit),
        "datasets": _search(dataset_list(project=project), "name", query, limit),
        "nodes": _search(lineage_node_list(project=project).exclude(type="app"), "label", query, limit),
    }
    if ID_LIKE.match(query):
        _merge_id_matches(project=project, query=query, results=results, limit=limit)
    _name_unresolved(project=project, nodes=results["nodes"])
    return results


# A GUID, an item id, a QRI or a part of one (no spaces, at least six characters).
ID_LIKE = re.compile(r"(?i)^(qri:\S+|[0-9a-f-]{6,36}|\S*://\S+)$")


def _merge_id_matches(*, project: Project, query: str, results: dict, limit: int) -> None:
    """Put what a GUID, item id or QRI (whole or a part) names first in the results: apps by
    GUID, item id or app QRI; datasets and connections by QRI. Three queries."""
    from lineage.selectors import lineage_node_list

    part = query.lower()
    if match := QRI_APP.match(query):
        part = match.group(1).lower()
    apps = list(
        QlikApp.objects.filter(project=project)
        .filter(Q(app_id__icontains=part) | Q(data__item__id__icontains=part))
        .order_by("appName", "app_id")[:limit]
    )
    datasets = list(
        dataset_list(project=project).filter(
            Q(qri__icontains=query) | Q(secureQri__icontains=query) | Q(dataset_id__iexact=query)
        )[:limit]
    )
    connections = list(
        data_connection_list(project=project)
        .filter(Q(qri__icontains=query) | Q(connection_id__iexact=query))
        .order_by("qName")[:limit]
    )
    nodes = list(lineage_node_list(project=project).exclude(type="app").filter(node_id__iexact=query)[:1])
    for key, found, pk in (
        ("apps", apps, "app_id"),
        ("datasets", datasets, "dataset_id"),
        ("connections", connections, "connection_id"),
        ("nodes", nodes, "node_id"),
    ):
        seen = {getattr(row, pk) for row in found}
        results[key] = found + [row for row in results[key] if getattr(row, pk) not in seen]


def _name_unresolved(*, project: Project, nodes: list) -> None:
    """Give unresolved references `app_id`, `app_name` and `line` (one query, none without)."""
    unresolved = [node for node in nodes if node.type == "unresolved"]
    for node in unresolved:
        parts = node.node_id.split(":")
        node.app_id = parts[1] if len(parts) > 2 else ""
        node.line = (node.data or {}).get("line")
    guids = {node.app_id for node in unresolved if node.app_id}
    names = (
        dict(QlikApp.objects.filter(project=project, app_id__in=guids).values_list("app_id", "appName"))
        if guids
        else {}
    )
    for node in unresolved:
        node.app_name = names.get(node.app_id) or node.app_id


# --- the consultants' pages ---------------------------------------------------------------------

GUID_PART = re.compile(r"(?i)^[0-9a-f-]{6,36}$")
QRI_APP = re.compile(r"(?i)^qri:app:sense://([0-9a-f-]{6,36})$")
EPOCH = datetime(1900, 1, 1, tzinfo=UTC)

# Sort key of the apps browser → (expression kind, annotation). Every key sorts a
# non-null value (text "" or the epoch) then the GUID, so keyset pages compare rows exactly.
APP_SORTS = {
    "name": "text",
    "space": "text",
    "owner": "text",
    "usage": "text",
    "last_reload": "time",
    "last_viewed": "time",
    "opens": "int",
}
_SORT_SOURCES = {
    "name": "appName",
    "space": "space_name",
    "owner": "owner_name",
    "usage": "usage_classification",
    "last_reload": "last_reload_at",
    "last_viewed": "last_viewed_at",
    "opens": "usage__usageAppOpens",
}


def app_get(*, project: Project, app_id: str) -> QlikApp:
    """One app of the project with `app_list`'s annotations and its usage; raises
    QlikApp.DoesNotExist."""
    return app_list(project=project).select_related("usage").get(app_id=app_id.lower())


def app_script_get(*, project: Project, app_id: str) -> str | None:
    return script_list(project=project).filter(app_id=app_id).values_list("script", flat=True).first()


def _stale_before():
    return timezone.now() - timedelta(days=settings.QLIK_STALE_DAYS)


def app_browse(
    *,
    project: Project,
    q: str = "",
    space: str = "",
    owner: str = "",
    usage: str = "",
    reload: str = "",
    stale: bool | None = None,
    published: bool | None = None,
    section_access: bool | None = None,
    failed_on: str = "",
    connection_type: str = "",
) -> QuerySet[QlikApp]:
    """`app_list` narrowed by the apps browser's filters (each optional, all combined).

    `q` matches names (trigram-indexed ILIKE) and GUIDs or item ids, whole or in part;
    `space` is a space id or "personal"; `reload` is "ok", "failed" or "never"; `stale`:
    not reloaded for QLIK_STALE_DAYS (never reloaded included); `failed_on` a day a reload
    failed; `connection_type`: apps whose usage names a connection of that type. One
    statement (two with `connection_type`: the type's connection names first).
    """
    apps = app_list(project=project).annotate(app_opens=Coalesce(F("usage__usageAppOpens"), 0))
    if q:
        match = Q(appName__icontains=q)
        if GUID_PART.match(q) or QRI_APP.match(q):
            part = QRI_APP.match(q).group(1) if QRI_APP.match(q) else q
            match |= Q(app_id__icontains=part.lower()) | Q(data__item__id=part.lower())
        apps = apps.filter(match)
    if space == "personal":
        apps = apps.filter(Q(spaceId__isnull=True) | Q(spaceId=""))
    elif space:
        apps = apps.filter(spaceId=space)
    if owner:
        apps = apps.filter(ownerId=owner)
    if usage:
        apps = apps.filter(usage_classification=usage)
    if reload == "never":
        apps = apps.filter(Q(usage_classification="never_reloaded") | Q(last_reload_at__isnull=True))
    elif reload in ("ok", "failed"):
        apps = apps.filter(status=reload)
    if stale is not None:
        stale_q = Q(last_reload_at__lt=_stale_before()) | Q(last_reload_at__isnull=True)
        apps = apps.filter(stale_q) if stale else apps.exclude(stale_q)
    if published is not None:
        apps = apps.filter(published=published)
    if section_access is not None:
        has = Q(data__attributes__hasSectionAccess=True)
        apps = apps.filter(has) if section_access else apps.exclude(has)
    if failed_on:
        apps = apps.filter(usage__data__reloadFailures__contains=[failed_on])
    if connection_type:
        apps = apps.filter(
            usage__connections__has_any_keys=connection_names(project=project, kind=connection_type)
        )
    return apps


def connection_names(*, project: Project, kind: str) -> list[str]:
    """The names scripts and usage give the connections of one type: `Name` and `Space:Name`."""
    spaces = {
        key: name for key, name in space_list(project=project).values_list("space_id", "spaceName") if name
    }
    names = []
    for name, space in data_connection_list(project=project).filter(qType=kind).values_list("qName", "space"):
        names.append(name)
        if space in spaces:
            names.append(f"{spaces[space]}:{name}")
    return names or ["\x01none"]  # never an empty ?| array: that matches nothing anyway


def app_sort(*, queryset: QuerySet[QlikApp], sort: str) -> tuple[QuerySet[QlikApp], str, bool]:
    """The queryset ordered by an APP_SORTS key ("-" first: descending), then the GUID.

    Returns (queryset with a non-null `sort_value`, the key, descending)."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in APP_SORTS:
        key, descending = "name", False
    kind = APP_SORTS[key]
    empty, field = {
        "text": (Value(""), TextField()),
        "time": (Value(EPOCH), DateTimeField()),
        "int": (Value(0), IntegerField()),
    }[kind]
    queryset = queryset.annotate(sort_value=Coalesce(F(_SORT_SOURCES[key]), empty, output_field=field))
    order = ("-sort_value", "-app_id") if descending else ("sort_value", "app_id")
    return queryset.order_by(*order), key, descending


def app_page(
    *, queryset: QuerySet[QlikApp], descending: bool, after: tuple | None, size: int
) -> tuple[list[QlikApp], tuple | None]:
    """One keyset page of a sorted `app_sort` queryset: rows after (sort value, GUID), and
    the key of the next page (None on the last). One query whatever the page's depth."""
    if after is not None:
        value, guid = after
        op = "lt" if descending else "gt"
        queryset = queryset.filter(
            Q(**{f"sort_value__{op}": value}) | Q(sort_value=value, **{f"app_id__{op}": guid})
        )
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, ((rows[-1].sort_value, rows[-1].app_id) if more and rows else None)


def app_browse_facets(*, queryset: QuerySet[QlikApp]) -> dict[str, int]:
    """Apps per usage class in `queryset` (one grouped query)."""
    return dict(
        queryset.order_by()
        .values_list("usage_classification")
        .annotate(n=Count("row_id"))
        .values_list("usage_classification", "n")
    )


def app_owner_choices(*, project: Project) -> list[tuple[str, str]]:
    """(owner id, name) of everyone owning an app of the project, by name (one query)."""
    names = QlikUser.objects.filter(project_id=OuterRef("project_id"), user_id=OuterRef("ownerId"))
    rows = (
        QlikApp.objects.filter(project=project)
        .exclude(ownerId="")
        .order_by()
        .values("ownerId")
        .annotate(name=Subquery(names.values("name")[:1]), n=Count("row_id"))
        .values_list("ownerId", "name")
    )
    return sorted(((owner, name or owner) for owner, name in rows), key=lambda pair: pair[1].lower())


def space_get(*, project: Project, space_id: str) -> QlikSpace:
    """A space by its id; raises QlikSpace.DoesNotExist."""
    return (
        space_list(project=project)
        .filter(Q(space_id=space_id) | Q(spaceId=space_id))
        .order_by("row_id")[:1]
        .get()
    )


def space_list_with_counts(*, project: Project) -> QuerySet[QlikSpace]:
    """Spaces by name with their apps counted and their owner's name (one statement)."""
    same_project = {"project_id": OuterRef("project_id")}
    apps = (
        QlikApp.objects.filter(**same_project, spaceId=OuterRef("space_id"))
        .order_by()
        .values("project_id")
        .annotate(n=Count("row_id"))
        .values("n")[:1]
    )
    return (
        space_list(project=project)
        .annotate(
            apps=Coalesce(Subquery(apps), 0),
            owner_name=Subquery(
                QlikUser.objects.filter(**same_project, user_id=OuterRef("ownerId")).values("name")[:1]
            ),
        )
        .order_by("spaceName", "space_id")
    )


def user_name(*, project: Project, user_id: str) -> str:
    """A user's name, or the id where the users listing does not name them."""
    if not user_id:
        return ""
    name = QlikUser.objects.filter(project=project, user_id=user_id).values_list("name", flat=True).first()
    return name or user_id


def data_connection_get(*, project: Project, connection_id: str) -> QlikDataConnection:
    """A connection by id; raises QlikDataConnection.DoesNotExist."""
    return data_connection_list(project=project).get(connection_id=connection_id)


def data_connection_list_named(*, project: Project) -> QuerySet[QlikDataConnection]:
    """Connections by name with their space's name."""
    return (
        data_connection_list(project=project)
        .annotate(
            space_name=Subquery(
                QlikSpace.objects.filter(
                    project_id=OuterRef("project_id"), space_id=OuterRef("space")
                ).values("spaceName")[:1]
            )
        )
        .order_by("qName", "connection_id")
    )


def sync_run_page(*, project: Project, before: int | None, size: int) -> tuple[list[QlikSyncRun], int | None]:
    """The project's runs, newest first, `size` at a time before the run id `before`."""
    runs = sync_run_list(project=project)
    if before is not None:
        runs = runs.filter(id__lt=before)
    rows = list(runs.order_by("-id")[: size + 1])
    return rows[:size], (rows[size - 1].id if len(rows) > size else None)


def change_list(*, project: Project) -> QuerySet[QlikChange]:
    """A project's change log, newest first, with the script versions a diff needs."""
    return (
        QlikChange.objects.filter(project=project)
        .select_related("script_from", "script_to")
        .order_by("-detected_at", "-row_id")
    )


def script_diff(*, change: QlikChange, context: int = 3) -> list[str] | None:
    """The unified diff of a script change, line by line; None where a version is no
    longer kept (retention) or predates the change log."""
    if change.kind != QlikChange.Kind.SCRIPT_CHANGED or not (change.script_from and change.script_to):
        return None
    return script_versions_diff(before=change.script_from, after=change.script_to, context=context)


def script_versions(*, project: Project, app_id: str, limit: int = 50) -> list[QlikScriptVersion]:
    """An app's kept script versions, newest first (the current one has no last_seen_at)."""
    return list(
        QlikScriptVersion.objects.filter(project=project, app_id=app_id).order_by(
            "-first_seen_at", "-row_id"
        )[:limit]
    )


def script_versions_diff(
    *, before: QlikScriptVersion, after: QlikScriptVersion, context: int = 3
) -> list[str]:
    """The unified diff from one kept version of a script to another, line by line."""
    return list(
        difflib.unified_diff(
            before.script.splitlines(),
            after.script.splitlines(),
            fromfile=f"seen {before.first_seen_at:%Y-%m-%d %H:%M}",
            tofile=f"seen {after.first_seen_at:%Y-%m-%d %H:%M}",
            n=context,
            lineterm="",
        )
    )
