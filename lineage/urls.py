"""Routes of the lineage pages."""

from django.urls import path

from lineage import views

urlpatterns = [
    path("projects/<int:project_id>/lineage/", views.lineage_graph_page, name="lineage-graph"),
    path("projects/<int:project_id>/nodes/", views.node_page, name="node-page"),
    path("projects/<int:project_id>/impact/", views.impact_page, name="impact"),
]
