"""Base views of the API: the RLS identity after authentication, the project in the URL,
CSV, errors as JSON, the API root and the API's 404 for a path it does not have."""

from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from atlas.rls import request_identity_switch
from customers.models import Project
from customers.selectors import project_get

MAX_ID = 2**63 - 1  # PostgreSQL's bigint: a larger id in the URL is no row, not an error


def _noun(model) -> str:
    """`Qlik app` → `app`: what a 404 calls the missing row."""
    name = str(model._meta.verbose_name)
    return name.removeprefix("Qlik ").removeprefix("qlik ")


class ErrorsAsJsonMixin:
    """An error answers in JSON even when CSV was asked for: a spreadsheet gets the status
    and a message instead of a header row of empty columns."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(response, "accepted_renderer", None)
        if response.status_code >= 400 and renderer is not None and renderer.format != "json":
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class RlsIdentityMixin(ErrorsAsJsonMixin):
    """Switch the request's RLS identity to the user DRF authenticated (a token's user).

    DRF authenticates inside the view, after `RlsIdentityMiddleware` opened the request
    transaction as the session user; every query of the view runs after `initial`.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        request_identity_switch(request.user)


class ProjectScopedMixin(RlsIdentityMixin):
    """Views under /projects/{project_id}/: the project must be one the user may see (404)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:
            project_id = int(kwargs["project_id"])
            if project_id > MAX_ID:
                raise Project.DoesNotExist
            self.project = project_get(project_id=project_id)
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
        if not self._csv():
            return super().paginate_queryset(queryset)
        if self.paginator is not None:
            self.paginator.query_check(queryset, self.request)  # bad input stays a 400
        return None

    def get_renderer_context(self):
        context = super().get_renderer_context()
        if self._csv():
            context["header"] = [name for name in self.get_serializer().fields if name != "data"]
        return context


class NotFoundWordedAlikeMixin:
    """A detail that does not exist: "No such app in this project." (Django would name
    the model class)."""

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            where = " in this project" if hasattr(self, "project") else ""
            raise Http404(f"No such {_noun(self.get_queryset().model)}{where}.")


class AtlasReadOnlyViewSet(
    CsvUnpaginatedMixin, NotFoundWordedAlikeMixin, RlsIdentityMixin, viewsets.ReadOnlyModelViewSet
):
    """Read-only rows the caller's RLS identity may see."""

    lookup_value_regex = r"\d{1,18}"  # ids are bigints; a longer number is no row (a 404)


class ProjectReadOnlyViewSet(
    CsvUnpaginatedMixin, NotFoundWordedAlikeMixin, ProjectScopedMixin, viewsets.ReadOnlyModelViewSet
):
    """Rows of the project in the URL: `selector(project=...)` reads them; `queryset`
    stays an empty queryset that only tells the schema generator the model."""

    selector = None

    def get_queryset(self):
        return self.selector(project=self.project)


PROJECT_RESOURCES = (
    "spaces",
    "apps",
    "data-connections",
    "datasets",
    "usage",
    "scripts",
    "sync-runs",
    "changes",
    "lineage/nodes",
    "lineage/edges",
    "lineage/upstream",
    "lineage/downstream",
    "lineage/impact",
)


class ApiRootView(ErrorsAsJsonMixin, APIView):
    """The API's resources and where its documentation is."""

    permission_classes = [permissions.AllowAny]  # it lists paths, it holds no data

    @extend_schema(
        summary="List the API's resources",
        description=(
            "Answers the URLs of the top-level resources (`customers`, `projects`, `health`), the "
            "per-project resources as URL templates with `{project_id}`, and the OpenAPI "
            "schema and docs. Needs no token; every other endpoint does "
            "(`Authorization: Token <key>`)."
        ),
        responses={200: {"type": "object", "additionalProperties": True}},
    )
    def get(self, request):
        root = request.build_absolute_uri("/api/v1/")

        def url(path: str) -> str:
            return f"{root}{path}"  # kept literal: `{project_id}` is a template, not a path

        return Response(
            {
                "customers": url("customers/"),
                "projects": url("projects/"),
                "health": url("health/"),
                "project": url("projects/{project_id}/"),
                "project_resources": {
                    name.replace("/", "_").replace("-", "_"): url(f"projects/{{project_id}}/{name}/")
                    for name in PROJECT_RESOURCES
                },
                "project_sync": url("projects/{project_id}/sync/"),
                "schema": request.build_absolute_uri(reverse("api-schema")),
                "docs": request.build_absolute_uri(reverse("api-docs")),
            }
        )


def api_not_found(request, *args, **kwargs):
    """Any path under /api/v1/ the API does not have: the API's 404 body, not an HTML page.

    A path that lacks only its final slash is redirected, as CommonMiddleware's APPEND_SLASH
    did before this catch-all matched every path.
    """
    if not request.path.endswith("/"):
        try:
            match = resolve(f"{request.path}/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(f"{request.path}/" + (f"?{query}" if query else ""))
    return JsonResponse(
        {"detail": "No such endpoint: GET /api/v1/ lists them.", "code": "not_found"}, status=404
    )
