"""Serializers of the lineage graph and of the answers to lineage questions."""

from rest_framework import serializers

from lineage.models import LineageEdge, LineageNode


class NodeSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="node_id")

    class Meta:
        model = LineageNode
        fields = ("id", "type", "label", "app_id", "data")


class EdgeSerializer(serializers.ModelSerializer):
    sources = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = LineageEdge
        fields = ("source", "target", "relation", "sources", "evidence")

    def get_sources(self, edge) -> list[str]:
        return edge.data.get("sources", [])

    def get_evidence(self, edge) -> list[dict]:
        return edge.data.get("evidence", [])


class GraphNodeSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField()
    label = serializers.CharField()
    app_id = serializers.CharField(allow_null=True)
    depth = serializers.IntegerField()


class GraphEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()
    relation = serializers.CharField()
    sources = serializers.ListField(child=serializers.CharField())
    evidence = serializers.ListField(child=serializers.DictField())


class GraphSerializer(serializers.Serializer):
    start = serializers.CharField()
    direction = serializers.CharField()
    depth = serializers.IntegerField()
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)


class ImpactAppSerializer(serializers.Serializer):
    id = serializers.CharField()
    app_id = serializers.CharField()
    name = serializers.CharField()
    owner_id = serializers.CharField()
    space_id = serializers.CharField()
    space_name = serializers.CharField()
    usage_classification = serializers.CharField()
    last_viewed_at = serializers.DateTimeField(allow_null=True)
    last_reload_at = serializers.DateTimeField(allow_null=True)
    used = serializers.BooleanField()


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


class TraversalQuerySerializer(serializers.Serializer):
    node = serializers.CharField(help_text="A node id, e.g. file:lib://datafiles/sales.qvd")
    depth = serializers.IntegerField(
        required=False, min_value=1, help_text="Default 5, capped by the setting"
    )
