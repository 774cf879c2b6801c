"""Routes of /api/v1/projects/{project_id}/lineage/..."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from lineage.api import views

app_name = "lineage-api"

router = SimpleRouter()
router.register(r"projects/(?P<project_id>\d{1,18})/lineage/nodes", views.NodeViewSet, basename="node")
router.register(r"projects/(?P<project_id>\d{1,18})/lineage/edges", views.EdgeViewSet, basename="edge")

urlpatterns = [
    path("projects/<int:project_id>/lineage/upstream/", views.UpstreamView.as_view(), name="upstream"),
    path("projects/<int:project_id>/lineage/downstream/", views.DownstreamView.as_view(), name="downstream"),
    path("projects/<int:project_id>/lineage/impact/", views.ImpactView.as_view(), name="impact"),
    *router.urls,
]
