"""Routes of the consultants' pages."""

from django.urls import path

from qlik.views import apps, changes, dashboard, estate, syncs

project = "projects/<int:project_id>"
urlpatterns = [
    path("projects/", dashboard.project_list_page, name="project-list"),
    path(f"{project}/", dashboard.project_dashboard, name="project-dashboard"),
    path(f"{project}/search/", dashboard.project_search, name="project-search"),
    path(f"{project}/export/<slug:name>.csv", dashboard.dashboard_csv, name="project-csv"),
    path(f"{project}/apps/", apps.app_browser, name="app-browser"),
    path(f"{project}/apps.csv", apps.app_browser_csv, name="app-browser-csv"),
    path(f"{project}/apps/<str:app_id>/", apps.app_page, name="app-page"),
    path(f"{project}/spaces/", estate.space_index, name="space-index"),
    path(f"{project}/spaces/<str:space_id>/", estate.space_page, name="space-page"),
    path(f"{project}/connections/", estate.connection_index, name="connection-index"),
    path(f"{project}/connections/<str:connection_id>/", estate.connection_page, name="connection-page"),
    path(f"{project}/syncs/", syncs.sync_history, name="sync-history"),
    path(f"{project}/changes/", changes.project_changes, name="project-changes"),
]
