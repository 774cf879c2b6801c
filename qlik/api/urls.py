"""Routes of /api/v1/projects/{project_id}/... for Qlik metadata."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from qlik.api import views

app_name = "qlik-api"

router = SimpleRouter()
prefix = r"projects/(?P<project_id>\d{1,18})"
router.register(rf"{prefix}/spaces", views.SpaceViewSet, basename="space")
router.register(rf"{prefix}/apps", views.AppViewSet, basename="app")
router.register(rf"{prefix}/data-connections", views.DataConnectionViewSet, basename="data-connection")
router.register(rf"{prefix}/datasets", views.DatasetViewSet, basename="dataset")
router.register(rf"{prefix}/usage", views.UsageViewSet, basename="usage")
router.register(rf"{prefix}/scripts", views.ScriptViewSet, basename="script")
router.register(rf"{prefix}/sync-runs", views.SyncRunViewSet, basename="sync-run")
router.register(rf"{prefix}/changes", views.ChangeViewSet, basename="change")

urlpatterns = [
    path("projects/<int:project_id>/sync/", views.ProjectSyncView.as_view(), name="project-sync"),
    *router.urls,
]
