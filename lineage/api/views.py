"""Lineage endpoints of a project: nodes, edges, upstream, downstream, impact."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from atlas.api.pagination import KeysetPagination
from atlas.api.views import ProjectReadOnlyViewSet, ProjectScopedMixin
from lineage import filtersets, selectors
from lineage.api import serializers
from lineage.models import LineageEdge, LineageNode


class ByLabel(KeysetPagination):
    ordering = ("label", "row_id")


class NodeViewSet(ProjectReadOnlyViewSet):
    queryset = LineageNode.objects.none()
    selector = staticmethod(selectors.lineage_node_list)
    serializer_class = serializers.NodeSerializer
    filterset_class = filtersets.NodeFilterSet
    pagination_class = ByLabel
    lookup_field = "node_id"
    lookup_value_regex = "[^?#]+"  # node ids hold slashes and colons


class EdgeViewSet(ProjectReadOnlyViewSet):
    queryset = LineageEdge.objects.none()
    selector = staticmethod(selectors.lineage_edge_list)
    serializer_class = serializers.EdgeSerializer
    filterset_class = filtersets.EdgeFilterSet
    lookup_field = "edge_id"
    lookup_value_regex = "[^?#]+"


class TraversalView(ProjectScopedMixin, APIView):
    """A question about one node (`?node=…&depth=…`); a node the project lacks is a 404."""

    direction = selectors.UPSTREAM

    def answer(self, node_id: str, depth: int | None) -> dict:
        return selectors.lineage_neighbourhood(
            project=self.project, node_id=node_id, direction=self.direction, depth=depth
        ).as_dict()

    @extend_schema(parameters=[serializers.TraversalQuerySerializer], responses=serializers.GraphSerializer)
    def get(self, request, project_pk):
        query = serializers.TraversalQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            return Response(self.answer(query.validated_data["node"], query.validated_data.get("depth")))
        except selectors.LineageNodeNotFound:
            raise Http404("No such node in this project.")


class UpstreamView(TraversalView):
    """Where the node's data comes from, hop by hop (default depth 5)."""

    direction = selectors.UPSTREAM


class DownstreamView(TraversalView):
    """Where the node's data goes, hop by hop (default depth 5)."""

    direction = selectors.DOWNSTREAM


class ImpactView(TraversalView):
    """The apps a change to the node reaches, by depth, with owner, space and last use."""

    def answer(self, node_id: str, depth: int | None) -> dict:
        impact = selectors.lineage_impact(project=self.project, node_id=node_id, depth=depth)
        return serializers.ImpactSerializer(impact).data

    @extend_schema(parameters=[serializers.TraversalQuerySerializer], responses=serializers.ImpactSerializer)
    def get(self, request, project_pk):
        return super().get(request, project_pk)
