"""URL routes of qlik_atlas."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "qlik_atlas"
admin.site.site_title = "qlik_atlas"
admin.site.index_title = "Customers, Qlik metadata and lineage"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
]
