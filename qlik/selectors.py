"""Reads for Qlik metadata, with the schema document's logical joins."""

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from customers.models import Project
from qlik.models import QlikApp, QlikAppScript, QlikAppUsage, QlikDataConnection, QlikSpace, QlikSyncRun


def app_list(*, project: Project) -> QuerySet[QlikApp]:
    """A project's apps with their space name, usage classification and script presence.

    Apps join spaces on `spaceId` (materialized), falling back to the legacy `space_id`
    columns of older rows; usage and scripts join on `(project_id, app_id)`. Each join is a
    correlated subquery in the same statement, so the query count does not grow with rows.
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
            usage_classification=Subquery(
                QlikAppUsage.objects.filter(**same_app).values("usageClassification")[:1]
            ),
            last_viewed_at=Subquery(QlikAppUsage.objects.filter(**same_app).values("usageLastViewedAt")[:1]),
            last_reload_at=Subquery(QlikAppUsage.objects.filter(**same_app).values("usageLastReloadAt")[:1]),
            has_script=Exists(QlikAppScript.objects.filter(**same_app)),
        )
        .order_by("appName", "app_id")
    )


def sync_run_list(**filters) -> QuerySet[QlikSyncRun]:
    """Sync runs matching `filters`, newest first."""
    return QlikSyncRun.objects.filter(**filters).order_by("-started_at", "-id")


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


def usage_list(*, project: Project) -> QuerySet[QlikAppUsage]:
    return QlikAppUsage.objects.filter(project=project)


def script_list(*, project: Project) -> QuerySet[QlikAppScript]:
    return QlikAppScript.objects.filter(project=project)
