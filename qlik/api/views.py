"""Read-only endpoints of a project's Qlik metadata, and the sync trigger."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from atlas.api.docs import ERROR_RESPONSES, PROJECT_ID, detail_schema, list_schema
from atlas.api.errors import ErrorSerializer
from atlas.api.pagination import KeysetPagination
from atlas.api.views import ProjectReadOnlyViewSet, ProjectScopedMixin
from customers.permissions import customer_user_can_change
from qlik import filtersets, selectors
from qlik.api import serializers
from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    QlikChange,
    QlikDataConnection,
    QlikDataset,
    QlikSpace,
    QlikSyncRun,
)
from qlik.services import project_sync_enqueue


class ByName(KeysetPagination):
    ordering = ("appName", "app_id")


@extend_schema_view(
    list=list_schema(
        summary="List a project's spaces",
        returns="The project's Qlik spaces (shared, managed and data spaces) as of the last sync.",
        filters=(
            "- `type=managed`: spaces of one type (shared, managed or data).\n"
            "- `name=sales`: spaces whose name contains the text (case-insensitive)."
        ),
        order="by the order the sync stored them",
        serializer=serializers.SpaceSerializer,
    ),
    retrieve=detail_schema(
        summary="Get a space by its Qlik id",
        returns="One space, by its Qlik space id (`space_id`).",
        serializer=serializers.SpaceSerializer,
    ),
)
class SpaceViewSet(ProjectReadOnlyViewSet):
    queryset = QlikSpace.objects.none()
    selector = staticmethod(selectors.space_list)
    serializer_class = serializers.SpaceSerializer
    filterset_class = filtersets.SpaceFilterSet
    lookup_field = "spaceId"
    lookup_url_kwarg = "space_id"


APP_FILTERS = (
    "- `space=Sales` or `space=<space id>`: apps in that space, by its exact name "
    "(case-insensitive) or its id; a name no space has answers an empty list.\n"
    "- `owner=<user id>`: apps of one owner, by Qlik user id (owners' names are not synced yet).\n"
    "- `usage=unused`: by usage class: active, low_use, unused, never_reloaded, no_usage_data.\n"
    "- `reload_status=failed`: by the last reload's status (ok or failed).\n"
    "- `published=true`: published apps only (`false`: unpublished only).\n"
    "- `name=dashboard`: apps whose name contains the text (case-insensitive).\n"
    "- `reloaded_after=2025-01-01`, `reloaded_before=2025-02-01T00:00:00Z`, "
    "`viewed_after=…`, `viewed_before=…`: by the last reload or view, ISO 8601, compared in UTC.\n\n"
    "Example: `?space=Finance&usage=unused&reloaded_before=2025-01-01` — unused Finance apps "
    "not reloaded since 2025 began. An unknown value of `usage`, `reload_status` or `published` is a "
    "400 that names it and lists the values it takes."
)


@extend_schema_view(
    list=list_schema(
        summary="List a project's apps",
        returns=(
            "The project's Qlik Sense apps with their space, owner, last reload and view, usage "
            "class and what the last sync could not read of each (`problems`)."
        ),
        filters=APP_FILTERS,
        order="by name, then app id",
        serializer=serializers.AppSerializer,
    ),
    retrieve=detail_schema(
        summary="Get an app by its GUID",
        returns=(
            "One app by its GUID (`app_id`), with `data`: the app as Qlik's API answered it, "
            "untouched (Qlik's own key names; left out of CSV)."
        ),
        serializer=serializers.AppDetailSerializer,
    ),
)
class AppViewSet(ProjectReadOnlyViewSet):
    queryset = QlikApp.objects.none()
    selector = staticmethod(selectors.app_list)
    filterset_class = filtersets.AppFilterSet
    pagination_class = ByName
    lookup_field = "app_id"

    def get_serializer_class(self):
        return serializers.AppDetailSerializer if self.action == "retrieve" else serializers.AppSerializer


@extend_schema_view(
    list=list_schema(
        summary="List a project's data connections",
        returns=(
            "The project's data connections: name, driver (`type`), space, owner and connect "
            "statement. Never a credential: Qlik's connection secret is neither read nor stored."
        ),
        filters=(
            "- `type=folder`: connections of one driver, exactly as `type` shows it.\n"
            "- `space=Sales` or `space=<space id>`: by the space's exact name or id.\n"
            "- `name=sql`: connections whose name contains the text (case-insensitive)."
        ),
        order="by the order the sync stored them",
        serializer=serializers.DataConnectionSerializer,
    ),
    retrieve=detail_schema(
        summary="Get a data connection by its id",
        returns="One data connection by its Qlik id (`connection_id`).",
        serializer=serializers.DataConnectionSerializer,
    ),
)
class DataConnectionViewSet(ProjectReadOnlyViewSet):
    queryset = QlikDataConnection.objects.none()
    selector = staticmethod(selectors.data_connection_list)
    serializer_class = serializers.DataConnectionSerializer
    filterset_class = filtersets.DataConnectionFilterSet
    lookup_field = "connection_id"


class DatasetPagination(KeysetPagination):
    ordering = ("name", "dataset_id")


@extend_schema_view(
    list=list_schema(
        summary="List a project's datasets",
        returns=(
            "The project's catalog datasets: data files (`kind` qix-df, e.g. QVDs) and tables "
            "behind a connection (`kind` connection_based_dataset), with size and QRIs."
        ),
        filters=(
            "- `kind=qix-df`: data files only (or `connection_based_dataset`); another value is a 400.\n"
            "- `space=Sales` or `space=<space id>`: by the space's exact name or id.\n"
            "- `name=sales.qvd`: datasets whose name contains the text (case-insensitive).\n"
            "- `updated_after=2025-01-01`, `updated_before=…`: by last update, ISO 8601, in UTC."
        ),
        order="by name, then dataset id",
        serializer=serializers.DatasetSerializer,
    ),
    retrieve=detail_schema(
        summary="Get a dataset by its id",
        returns="One dataset by its Qlik item id (`dataset_id`).",
        serializer=serializers.DatasetSerializer,
    ),
)
class DatasetViewSet(ProjectReadOnlyViewSet):
    queryset = QlikDataset.objects.none()
    selector = staticmethod(selectors.dataset_list)
    serializer_class = serializers.DatasetSerializer
    filterset_class = filtersets.DatasetFilterSet
    pagination_class = DatasetPagination
    lookup_field = "dataset_id"


@extend_schema_view(
    list=list_schema(
        summary="List a project's app usage",
        returns=(
            "Per app, over the usage window (`window_days`): reloads, app opens, sheet views, "
            "unique users, last reload and view, and the usage class derived from them."
        ),
        filters=(
            "- `usage=unused`: by usage class: active, low_use, unused, never_reloaded, "
            "no_usage_data; another value is a 400.\n"
            "- `viewed_after=2025-01-01`, `viewed_before=…`: by last view, ISO 8601, in UTC."
        ),
        order="by the order the sync stored them",
        serializer=serializers.UsageSerializer,
    ),
    retrieve=detail_schema(
        summary="Get an app's usage by its GUID",
        returns="One app's usage, by the app's GUID (`app_id`).",
        serializer=serializers.UsageSerializer,
    ),
)
class UsageViewSet(ProjectReadOnlyViewSet):
    queryset = QlikAppUsage.objects.none()
    selector = staticmethod(selectors.usage_list)
    serializer_class = serializers.UsageSerializer
    filterset_class = filtersets.UsageFilterSet
    lookup_field = "app_id"


@extend_schema_view(
    list=list_schema(
        summary="List a project's load scripts",
        returns="Each app's load script as of the last sync, by app GUID. No filters.",
        order="by the order the sync stored them",
        serializer=serializers.ScriptSerializer,
    ),
    retrieve=detail_schema(
        summary="Get an app's load script by its GUID",
        returns="One app's load script, by the app's GUID (`app_id`).",
        serializer=serializers.ScriptSerializer,
    ),
)
class ScriptViewSet(ProjectReadOnlyViewSet):
    queryset = QlikAppScript.objects.none()
    selector = staticmethod(selectors.script_list)
    serializer_class = serializers.ScriptSerializer
    lookup_field = "app_id"


class ChangePagination(KeysetPagination):
    ordering = ("-detected_at", "-row_id")


@extend_schema_view(
    list=list_schema(
        summary="List what changed in the tenant between syncs",
        returns=(
            "The project's change log: each successful sync records what changed since the previous "
            "one — apps added, removed, renamed, moved or (un)published, scripts changed (with a "
            "unified `diff`), data connections added, removed or changed (never their connect "
            "statement), datasets added or removed, lineage edges added or removed. The first sync "
            "records one `initial_snapshot` entry; a sync that changed nothing records nothing."
        ),
        filters=(
            "- `since=2025-01-01T00:00:00Z`, `until=…`: found at or after / before, ISO 8601, in UTC.\n"
            "- `kind=app_removed&kind=script_changed`: one or more kinds; another value is a 400.\n"
            "- `object_id=<app GUID>`: the changes of one app, connection, dataset or edge."
        ),
        order="newest first",
        serializer=serializers.ChangeSerializer,
    ),
    retrieve=detail_schema(
        summary="Get a change by its id",
        returns="One change by its id (`id`), with the script diff where it is a script change.",
        serializer=serializers.ChangeSerializer,
    ),
)
class ChangeViewSet(ProjectReadOnlyViewSet):
    queryset = QlikChange.objects.none()
    selector = staticmethod(selectors.change_list)
    serializer_class = serializers.ChangeSerializer
    filterset_class = filtersets.ChangeFilterSet
    pagination_class = ChangePagination
    lookup_field = "row_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = r"\d{1,18}"


class SyncRunPagination(KeysetPagination):
    ordering = "-started_at"


@extend_schema_view(
    list=list_schema(
        summary="List a project's sync runs",
        returns=(
            "The project's syncs from its Qlik tenant: status, start and end, rows stored per "
            "table (`counts`), API calls (in all and per endpoint), 429s met, retries, apps "
            "fetched or carried over, and what could not be read (`problems`, `error`)."
        ),
        filters=(
            "- `status=failed`: runs of one status: running, succeeded or failed; another value is a 400.\n"
            "- `started_after=2025-01-01`, `started_before=…`: by start, ISO 8601, in UTC."
        ),
        order="newest first",
        serializer=serializers.SyncRunSerializer,
    ),
    retrieve=detail_schema(
        summary="Get a sync run by its id",
        returns="One sync run by its id (`id`).",
        serializer=serializers.SyncRunSerializer,
    ),
)
class SyncRunViewSet(ProjectReadOnlyViewSet):
    queryset = QlikSyncRun.objects.none()
    serializer_class = serializers.SyncRunSerializer
    filterset_class = filtersets.SyncRunFilterSet
    pagination_class = SyncRunPagination
    lookup_value_regex = r"\d{1,18}"

    def get_queryset(self):
        return selectors.sync_run_list(project=self.project).select_related("requested_by")


class ProjectSyncView(ProjectScopedMixin, APIView):
    """Queue a background sync; allowed with change rights on the project's customer."""

    @extend_schema(
        summary="Queue a sync of the project",
        description=(
            "Queues a background sync of the project from its Qlik tenant and answers 202 at "
            "once with the job's id; follow it in `GET …/sync-runs/`. When a sync of the project "
            "is already queued, answers 202 with `job_id` null and queues nothing.\n\n"
            "Needs change rights on the project's customer: a token that may only read the "
            'project gets a 403. **Errors** answer `{"detail": "…", "code": "…"}`: 401 '
            "without a valid token, 403 without change rights, 404 when the project is not one "
            "you may see, 429 when the token's rate is spent."
        ),
        request=None,
        parameters=[PROJECT_ID],
        responses={202: serializers.SyncEnqueuedSerializer, 403: ErrorSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, project_id):
        if not customer_user_can_change(user=request.user, customer=self.project.customer):
            raise PermissionDenied("You may see this project but not sync it.")
        job_id = project_sync_enqueue(
            project=self.project, trigger=QlikSyncRun.Trigger.API, requested_by=request.user
        )
        detail = "Sync queued." if job_id else "A sync of this project is already queued."
        return Response({"job_id": job_id, "detail": detail}, status=status.HTTP_202_ACCEPTED)
