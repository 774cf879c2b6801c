"""django-filter FilterSets of the lineage API."""

import django_filters as filters
from django.db.models import Q

from atlas.api.filters import choice_filter
from lineage.models import LineageEdge, LineageNode


class NodeFilterSet(filters.FilterSet):
    type = choice_filter(
        field_name="type", choices=LineageNode.NodeType.choices, help_text="The node's type."
    )
    search = filters.CharFilter(method="search_filter", help_text="Part of the label or of the node id")
    app_id = filters.CharFilter(field_name="app_id", lookup_expr="iexact", help_text="An app's GUID.")

    class Meta:
        model = LineageNode
        fields = []

    def search_filter(self, queryset, name, value):
        return queryset.filter(Q(label__icontains=value) | Q(node_id__icontains=value))


class EdgeFilterSet(filters.FilterSet):
    source = filters.CharFilter(field_name="source", help_text="The node id the edge leaves.")
    target = filters.CharFilter(field_name="target", help_text="The node id the edge enters.")
    relation = filters.CharFilter(field_name="relation", help_text="The relation, exactly, e.g. loads.")

    class Meta:
        model = LineageEdge
        fields = []
