"""Lineage endpoints of a project: nodes, edges, upstream, downstream, impact."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.response import Response
from rest_framework.views import APIView

from atlas.api.docs import ERROR_RESPONSES, ERRORS_PROJECT, PROJECT_ID, detail_schema, list_schema
from atlas.api.filters import query_params_check
from atlas.api.pagination import KeysetPagination
from atlas.api.views import ProjectReadOnlyViewSet, ProjectScopedMixin
from lineage import filtersets, selectors
from lineage.api import serializers
from lineage.models import LineageEdge, LineageNode


class ByLabel(KeysetPagination):
    ordering = ("label", "row_id")


@extend_schema_view(
    list=list_schema(
        summary="List a project's lineage nodes",
        returns=(
            "The nodes of the project's lineage graph: apps, data connections, database tables, "
            "files (QVDs, CSVs, …) and sources that could not be resolved. A node's `node_id` is "
            "what `upstream/`, `downstream/` and `impact/` take as `node`."
        ),
        filters=(
            "- `type=file`: nodes of one type: app, connection, table, file or unresolved; "
            "another value is a 400.\n"
            "- `search=sales.qvd`: nodes whose label or id contains the text (case-insensitive).\n"
            "- `app_id=<app GUID>`: the node of one app."
        ),
        order="by label",
        serializer=serializers.NodeSerializer,
    ),
    retrieve=detail_schema(
        summary="Get a lineage node by its id",
        returns="One node by its `node_id` (ids hold slashes and colons; use them as they are).",
        serializer=serializers.NodeSerializer,
    ),
)
class NodeViewSet(ProjectReadOnlyViewSet):
    queryset = LineageNode.objects.none()
    selector = staticmethod(selectors.lineage_node_list)
    serializer_class = serializers.NodeSerializer
    filterset_class = filtersets.NodeFilterSet
    pagination_class = ByLabel
    lookup_field = "node_id"
    lookup_value_regex = "[^?#]+"  # node ids hold slashes and colons


@extend_schema_view(
    list=list_schema(
        summary="List a project's lineage edges",
        returns=(
            "The edges of the project's lineage graph: data flows from `source` to `target` "
            "(node ids), with the relation, where the edge was read and the evidence."
        ),
        filters=(
            "- `source=<node id>`: edges leaving one node.\n"
            "- `target=app:<app GUID>`: edges entering one node (an app's direct sources).\n"
            "- `relation=loads`: edges of one relation, exactly."
        ),
        order="by the order the graph was stored",
        serializer=serializers.EdgeSerializer,
    ),
    retrieve=detail_schema(
        summary="Get a lineage edge by its id",
        returns="One edge by its `edge_id`.",
        serializer=serializers.EdgeSerializer,
    ),
)
class EdgeViewSet(ProjectReadOnlyViewSet):
    queryset = LineageEdge.objects.none()
    selector = staticmethod(selectors.lineage_edge_list)
    serializer_class = serializers.EdgeSerializer
    filterset_class = filtersets.EdgeFilterSet
    lookup_field = "edge_id"
    lookup_value_regex = "[^?#]+"


TRAVERSAL_ERRORS = ERRORS_PROJECT + (
    " A `node` the project does not have is a 404 `No such lineage node in this project.`; "
    "a missing `node` or a `depth` below 1 is a 400."
)


def traversal_schema(*, summary: str, returns: str, csv: str, serializer):
    return extend_schema(
        summary=summary,
        description="\n\n".join((returns, csv, TRAVERSAL_ERRORS)),
        parameters=[PROJECT_ID, serializers.TraversalQuerySerializer],
        responses={200: serializer, **ERROR_RESPONSES},
    )


class TraversalView(ProjectScopedMixin, APIView):
    """A question about one node (`?node=…&depth=…`); a node the project lacks is a 404.

    JSON answers the nested answer; CSV one row per item with its depth (`csv_rows`)."""

    direction = selectors.UPSTREAM
    csv_header = serializers.GraphNodeCsvSerializer.Meta.fields

    def answer(self, node_id: str, depth: int | None) -> dict:
        neighbourhood = selectors.lineage_neighbourhood(
            project=self.project, node_id=node_id, direction=self.direction, depth=depth
        )
        return serializers.GraphSerializer(neighbourhood.as_dict()).data

    def csv_rows(self, answer: dict) -> list[dict]:
        return answer["nodes"]

    def _csv(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return renderer is not None and renderer.format == "csv"

    def get_renderer_context(self):
        context = super().get_renderer_context()
        if self._csv():
            context["header"] = list(self.csv_header)
        return context

    def get(self, request, project_id):
        query_params_check(request, taken={"node", "depth", "format"})
        query = serializers.TraversalQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            answer = self.answer(query.validated_data["node"], query.validated_data.get("depth"))
        except selectors.LineageNodeNotFound:
            raise Http404("No such lineage node in this project.")
        return Response(self.csv_rows(answer) if self._csv() else answer)


GRAPH_CSV = (
    "**CSV.** `?format=csv` answers one row per node with its depth (0 for the start): "
    "depth, node_id, type, label, app_id. The edges are in the JSON answer and in `lineage/edges/`."
)


@extend_schema_view(
    get=traversal_schema(
        summary="Walk upstream from a node",
        returns=(
            "Where the node's data comes from, hop by hop: every node within `depth` hops "
            "upstream with its distance, and the edges walked. Example: "
            "`?node=app:<app GUID>&depth=2` — the app's sources and their sources."
        ),
        csv=GRAPH_CSV,
        serializer=serializers.GraphSerializer,
    )
)
class UpstreamView(TraversalView):
    direction = selectors.UPSTREAM


@extend_schema_view(
    get=traversal_schema(
        summary="Walk downstream from a node",
        returns=(
            "Where the node's data goes, hop by hop: every node within `depth` hops downstream "
            "with its distance, and the edges walked. Example: "
            "`?node=file:lib://datafiles/sales.qvd` — what reads that QVD, and what reads those."
        ),
        csv=GRAPH_CSV,
        serializer=serializers.GraphSerializer,
    )
)
class DownstreamView(TraversalView):
    direction = selectors.DOWNSTREAM


@extend_schema_view(
    get=traversal_schema(
        summary="List the apps a change to a node reaches",
        returns=(
            "The apps downstream of the node within `depth` hops, by depth, each with its "
            "owner, space, usage class, last reload and view, and whether it was used (viewed "
            "within the usage window of `window_days`); `apps_total` and `apps_used` count them. "
            "Example: `?node=table:<connection>/<schema.table>` — who is affected when that "
            "table changes."
        ),
        csv=(
            "**CSV.** `?format=csv` answers one row per impacted app with its depth: "
            + ", ".join(serializers.IMPACT_CSV_HEADER)
            + "."
        ),
        serializer=serializers.ImpactSerializer,
    )
)
class ImpactView(TraversalView):
    csv_header = serializers.IMPACT_CSV_HEADER

    def answer(self, node_id: str, depth: int | None) -> dict:
        impact = selectors.lineage_impact(project=self.project, node_id=node_id, depth=depth)
        return serializers.ImpactSerializer(impact).data

    def csv_rows(self, answer: dict) -> list[dict]:
        return [{"depth": level["depth"], **app} for level in answer["by_depth"] for app in level["apps"]]
