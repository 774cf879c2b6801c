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
    """`?format=csv` answers the whole filtered list, for spreadsheets; JSON pages.

    The columns are the serializer's fields in their order (the raw `data` stays in the
    JSON), so an empty list is still a CSV with its header row.
    """

    def _csv(self) -> bool:
        renderer = getattr(getattr(self, "request", None), "accepted_renderer", None)
        return renderer is not None and renderer.format == "csv"

    def paginate_queryset(self, queryset):
        return None if self._csv() else super().paginate_queryset(queryset)

    def get_renderer_context(self):
        context = super().get_renderer_context()
        if self._csv():
            context["header"] = [name for name in self.get_serializer().fields if name != "data"]
        return context


class AtlasReadOnlyViewSet(CsvUnpaginatedMixin, RlsIdentityMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ProjectReadOnlyViewSet(CsvUnpaginatedMixin, ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    """A project's rows: `selector` (a selector taking `project=`, as a staticmethod) gives
    them; `queryset = Model.objects.none()` only names the model for the OpenAPI schema."""

    selector = None

    def get_queryset(self):
        return self.selector(project=self.project)
