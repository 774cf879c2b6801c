"""Customers and projects the caller may see (RLS decides; another customer's is a 404)."""

from atlas.api.pagination import KeysetPagination
from atlas.api.views import AtlasReadOnlyViewSet
from customers import selectors
from customers.api import serializers
from qlik.selectors import last_sync_annotate


class ById(KeysetPagination):
    ordering = "id"


class CustomerViewSet(AtlasReadOnlyViewSet):
    serializer_class = serializers.CustomerSerializer
    pagination_class = ById

    def get_queryset(self):
        return selectors.customer_list()


class ProjectViewSet(AtlasReadOnlyViewSet):
    serializer_class = serializers.ProjectSerializer
    pagination_class = ById

    def get_queryset(self):
        return last_sync_annotate(queryset=selectors.project_list(), project_path="project")
