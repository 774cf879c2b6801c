"""Routes of the lineage pages."""

from django.urls import path

from lineage import views

urlpatterns = [
    path("projects/<int:project_id>/lineage/", views.lineage_graph_page, name="lineage-graph"),
]
