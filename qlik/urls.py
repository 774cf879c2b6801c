"""Routes of the consultants' pages."""

from django.urls import path

from qlik import views

urlpatterns = [
    path("projects/", views.project_list_page, name="project-list"),
    path("projects/<int:project_id>/", views.project_dashboard, name="project-dashboard"),
    path("projects/<int:project_id>/search/", views.project_search, name="project-search"),
    path("projects/<int:project_id>/export/<slug:name>.csv", views.dashboard_csv, name="project-csv"),
    path("projects/<int:project_id>/changes/", views.project_changes, name="project-changes"),
]
