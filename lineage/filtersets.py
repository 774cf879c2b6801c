"""django-filter FilterSets of the lineage API."""

import django_filters as filters
from django.db.models import Q

from lineage.models import LineageEdge, LineageNode


class NodeFilterSet(filters.FilterSet):
    type = filters.ChoiceFilter(choices=LineageNode.NodeType.choices)
    search = filters.CharFilter(method="search_filter", help_text="Part of the label or of the node id")
    app_id = filters.CharFilter(field_name="app_id", lookup_expr="iexact")

    class Meta:
        model = LineageNode
        fields = []

    def search_filter(self, queryset, name, value):
        return queryset.filter(Q(label__icontains=value) | Q(node_id__icontains=value))


class EdgeFilterSet(filters.FilterSet):
    source = filters.CharFilter(field_name="source")
    target = filters.CharFilter(field_name="target")
    relation = filters.CharFilter(field_name="relation")

    class Meta:
        model = LineageEdge
        fields = []
