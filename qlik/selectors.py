"""Reads for Qlik metadata, with the schema document's logical joins."""

import difflib
import re
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector, TrigramSimilarity
from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
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
    problems = (succeeded.problems or {}) if succeeded else {}
    return {
        "succeeded": succeeded,
        "failed_since": latest if latest and latest.status == QlikSyncRun.Status.FAILED else None,
        "problem_lines": [entry["summary"] for entry in problems.get("counts") or []]
        + [entry["why"] for entry in problems.get("skipped") or []],
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

    query = query.strip()[:200]
    if not query:
        return {"apps": [], "spaces": [], "connections": [], "datasets": [], "nodes": []}
    return {
        "apps": _search(QlikApp.objects.filter(project=project), "appName", query, limit),
        "spaces": _search(space_list(project=project), "spaceName", query, limit),
        "connections": _search(data_connection_list(project=project), "qName", query, limit),
        "datasets": _search(dataset_list(project=project), "name", query, limit),
        "nodes": _search(lineage_node_list(project=project).exclude(type="app"), "label", query, limit),
    }


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
    before, after = change.script_from, change.script_to
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
