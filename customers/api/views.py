"""Customers and projects the caller may see (RLS decides; another customer's is a 404)."""

from drf_spectacular.utils import extend_schema_view

from atlas.api.docs import detail_schema, list_schema
from atlas.api.pagination import KeysetPagination
from atlas.api.views import AtlasReadOnlyViewSet
from customers import selectors
from customers.api import serializers
from qlik.selectors import last_sync_annotate


class ById(KeysetPagination):
    ordering = "id"


@extend_schema_view(
    list=list_schema(
        summary="List the customers you may see",
        returns=(
            "The customers (Qlik Cloud tenants) your token's user has access to: name, tenant "
            "URL and whether API credentials are set (never the credentials). No filters."
        ),
        order="by id",
        serializer=serializers.CustomerSerializer,
        project=False,
    ),
    retrieve=detail_schema(
        summary="Get a customer by its id",
        returns="One customer by its `id`; a customer you may not see is a 404 `No such customer.`",
        serializer=serializers.CustomerSerializer,
        project=False,
    ),
)
class CustomerViewSet(AtlasReadOnlyViewSet):
    serializer_class = serializers.CustomerSerializer
    pagination_class = ById

    def get_queryset(self):
        return selectors.customer_list()


@extend_schema_view(
    list=list_schema(
        summary="List the projects you may see",
        returns=(
            "The projects of the customers your token's user has access to, with their "
            "customer and the status and start of their last sync. A project's `id` is the "
            "`{project_id}` of every per-project endpoint (see `GET /api/v1/`). No filters."
        ),
        order="by id",
        serializer=serializers.ProjectSerializer,
        project=False,
    ),
    retrieve=detail_schema(
        summary="Get a project by its id",
        returns="One project by its `id`; a project you may not see is a 404 `No such project.`",
        serializer=serializers.ProjectSerializer,
        project=False,
    ),
)
class ProjectViewSet(AtlasReadOnlyViewSet):
    serializer_class = serializers.ProjectSerializer
    pagination_class = ById

    def get_queryset(self):
        return last_sync_annotate(queryset=selectors.project_list(), project_path="project")
