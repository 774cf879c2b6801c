"""Read-only endpoints of a project's Qlik metadata, and the sync trigger."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

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


class SpaceViewSet(ProjectReadOnlyViewSet):
    queryset = QlikSpace.objects.none()
    selector = staticmethod(selectors.space_list)
    serializer_class = serializers.SpaceSerializer
    filterset_class = filtersets.SpaceFilterSet
    lookup_field = "spaceId"


class AppViewSet(ProjectReadOnlyViewSet):
    queryset = QlikApp.objects.none()
    selector = staticmethod(selectors.app_list)
    filterset_class = filtersets.AppFilterSet
    pagination_class = ByName
    lookup_field = "app_id"

    def get_serializer_class(self):
        return serializers.AppDetailSerializer if self.action == "retrieve" else serializers.AppSerializer


class DataConnectionViewSet(ProjectReadOnlyViewSet):
    queryset = QlikDataConnection.objects.none()
    selector = staticmethod(selectors.data_connection_list)
    serializer_class = serializers.DataConnectionSerializer
    filterset_class = filtersets.DataConnectionFilterSet
    lookup_field = "connection_id"


class DatasetPagination(KeysetPagination):
    ordering = ("name", "dataset_id")


class DatasetViewSet(ProjectReadOnlyViewSet):
    queryset = QlikDataset.objects.none()
    selector = staticmethod(selectors.dataset_list)
    serializer_class = serializers.DatasetSerializer
    filterset_class = filtersets.DatasetFilterSet
    pagination_class = DatasetPagination
    lookup_field = "dataset_id"


class UsageViewSet(ProjectReadOnlyViewSet):
    queryset = QlikAppUsage.objects.none()
    selector = staticmethod(selectors.usage_list)
    serializer_class = serializers.UsageSerializer
    filterset_class = filtersets.UsageFilterSet
    lookup_field = "app_id"


class ScriptViewSet(ProjectReadOnlyViewSet):
    queryset = QlikAppScript.objects.none()
    selector = staticmethod(selectors.script_list)
    serializer_class = serializers.ScriptSerializer
    lookup_field = "app_id"


class ChangePagination(KeysetPagination):
    ordering = ("-detected_at", "-row_id")


class ChangeViewSet(ProjectReadOnlyViewSet):
    """What changed in the tenant between syncs, newest first."""

    queryset = QlikChange.objects.none()
    selector = staticmethod(selectors.change_list)
    serializer_class = serializers.ChangeSerializer
    filterset_class = filtersets.ChangeFilterSet
    pagination_class = ChangePagination
    lookup_field = "row_id"


class SyncRunPagination(KeysetPagination):
    ordering = "-started_at"


class SyncRunViewSet(ProjectReadOnlyViewSet):
    queryset = QlikSyncRun.objects.none()
    serializer_class = serializers.SyncRunSerializer
    filterset_class = filtersets.SyncRunFilterSet
    pagination_class = SyncRunPagination

    def get_queryset(self):
        return selectors.sync_run_list(project=self.project).select_related("requested_by")


class ProjectSyncView(ProjectScopedMixin, APIView):
    """Queue a background sync; allowed with change rights on the project's customer."""

    @extend_schema(request=None, responses={202: serializers.SyncEnqueuedSerializer})
    def post(self, request, project_pk):
        if not customer_user_can_change(user=request.user, customer=self.project.customer):
            raise PermissionDenied("You may see this project but not sync it.")
        job_id = project_sync_enqueue(
            project=self.project, trigger=QlikSyncRun.Trigger.API, requested_by=request.user
        )
        detail = "Sync queued." if job_id else "A sync of this project is already queued."
        return Response({"job_id": job_id, "detail": detail}, status=status.HTTP_202_ACCEPTED)
