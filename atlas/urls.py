"""URL routes of qlik_atlas."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from atlas.api.views import ApiRootView, api_not_found
from health.views import health_board

admin.site.site_header = "qlik_atlas"
admin.site.site_title = "qlik_atlas"
admin.site.index_title = "Customers, Qlik metadata and lineage"

api_v1 = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("customers.api.urls")),
    path("", include("qlik.api.urls")),
    path("", include("lineage.api.urls")),
    path("", include("health.api.urls")),
    re_path(r"^[\s\S]*$", api_not_found),  # last: a path the API lacks (newlines too) is a JSON 404
]

urlpatterns = [
    path("", RedirectView.as_view(url="/projects/", permanent=False)),
    path("admin/health/", admin.site.admin_view(health_board), name="admin-health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("qlik.urls")),
    path("", include("lineage.urls")),
]
