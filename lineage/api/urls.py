"""Routes of /api/v1/projects/{project_pk}/lineage/..."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from lineage.api import views

app_name = "lineage-api"

router = SimpleRouter()
router.register(r"projects/(?P<project_pk>\d+)/lineage/nodes", views.NodeViewSet, basename="node")
router.register(r"projects/(?P<project_pk>\d+)/lineage/edges", views.EdgeViewSet, basename="edge")

urlpatterns = [
    path("projects/<int:project_pk>/lineage/upstream/", views.UpstreamView.as_view(), name="upstream"),
    path("projects/<int:project_pk>/lineage/downstream/", views.DownstreamView.as_view(), name="downstream"),
    path("projects/<int:project_pk>/lineage/impact/", views.ImpactView.as_view(), name="impact"),
    *router.urls,
]
