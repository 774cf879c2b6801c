"""Serializers of the lineage graph and of the answers to lineage questions (snake_case
names, as every endpoint; the selectors' dicts say `id` where the API says `node_id`)."""

from rest_framework import serializers

from lineage.models import LineageEdge, LineageNode


class NodeSerializer(serializers.ModelSerializer):
    data = serializers.JSONField(read_only=True, help_text="What the graph's sources said of the node")

    class Meta:
        model = LineageNode
        fields = ("node_id", "type", "label", "app_id", "data")


class EdgeSerializer(serializers.ModelSerializer):
    sources = serializers.SerializerMethodField(help_text="Where the edge was read: lineage_api, script, …")
    evidence = serializers.SerializerMethodField(help_text="The script lines or API records behind it")

    class Meta:
        model = LineageEdge
        fields = ("edge_id", "source", "target", "relation", "sources", "evidence")

    def get_sources(self, edge) -> list[str]:
        return edge.data.get("sources", [])

    def get_evidence(self, edge) -> list[dict]:
        return edge.data.get("evidence", [])


class GraphNodeSerializer(serializers.Serializer):
    node_id = serializers.CharField(source="id")
    type = serializers.CharField()
    label = serializers.CharField()
    app_id = serializers.CharField(allow_null=True, help_text="The app's GUID when the node is an app")
    depth = serializers.IntegerField(help_text="Hops from the start node (0 for the start itself)")


class GraphNodeCsvSerializer(GraphNodeSerializer):
    """One CSV row per node, its depth first."""

    class Meta:
        fields = ("depth", "node_id", "type", "label", "app_id")


class GraphEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    relation = serializers.CharField()
    sources = serializers.ListField(child=serializers.CharField())
    evidence = serializers.ListField(child=serializers.DictField())


class GraphSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="The node asked about")
    direction = serializers.CharField(help_text="upstream or downstream")
    depth = serializers.IntegerField(help_text="The depth walked (asked for, or 5, at most the cap)")
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)


class ImpactAppSerializer(serializers.Serializer):
    node_id = serializers.CharField(source="id")
    app_id = serializers.CharField()
    name = serializers.CharField()
    owner_id = serializers.CharField()
    space_id = serializers.CharField()
    space_name = serializers.CharField()
    usage_classification = serializers.CharField()
    last_viewed_at = serializers.DateTimeField(allow_null=True)
    last_reload_at = serializers.DateTimeField(allow_null=True)
    used = serializers.BooleanField(help_text="Viewed within the usage window")


class ImpactLevelSerializer(serializers.Serializer):
    depth = serializers.IntegerField()
    apps = ImpactAppSerializer(many=True)


class ImpactSerializer(serializers.Serializer):
    node = GraphNodeSerializer()
    depth = serializers.IntegerField()
    apps_total = serializers.IntegerField()
    apps_used = serializers.IntegerField()
    window_days = serializers.IntegerField()
    by_depth = ImpactLevelSerializer(many=True)


IMPACT_CSV_HEADER = ("depth", *ImpactAppSerializer().fields)


class TraversalQuerySerializer(serializers.Serializer):
    node = serializers.CharField(
        help_text="The node's id, as `lineage/nodes/` lists it, e.g. `file:lib://datafiles/sales.qvd` "
        "or `app:<app GUID>`"
    )
    depth = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Hops to walk, from 1; default 5; a depth above the server's cap walks the cap",
    )
