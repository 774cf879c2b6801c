"""Base views of the API: the RLS identity after authentication, the project in the URL, CSV."""

from django.http import Http404
from rest_framework import viewsets

from atlas.rls import request_identity_switch
from customers.models import Project
from customers.selectors import project_get


class RlsIdentityMixin:
    """Switch the request's RLS identity to the user DRF authenticated (a token's user).

    DRF authenticates inside the view, after `RlsIdentityMiddleware` opened the request
    transaction as the session user; every query of the view runs after `initial`.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        request_identity_switch(request.user)


class ProjectScopedMixin(RlsIdentityMixin):
    """Views under /projects/{project_pk}/: the project must be one the user may see (404)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:
            self.project = project_get(project_id=kwargs["project_pk"])
        except Project.DoesNotExist:
            raise Http404("No such project.")


class CsvUnpaginatedMixin:
    """`?format=csv` answers the whole filtered list, for spreadsheets; JSON pages."""

    def paginate_queryset(self, queryset):
        if (
            getattr(self.request, "accepted_renderer", None)
            and self.request.accepted_renderer.format == "csv"
        ):
            return None
        return super().paginate_queryset(queryset)


class AtlasReadOnlyViewSet(CsvUnpaginatedMixin, RlsIdentityMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ProjectReadOnlyViewSet(CsvUnpaginatedMixin, ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass
