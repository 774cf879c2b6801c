"""Read-only admin for the lineage graph."""

from django.contrib import admin

from atlas.admin import ReadOnlyModelAdmin
from lineage.models import LineageEdge, LineageNode


@admin.register(LineageNode)
class LineageNodeAdmin(ReadOnlyModelAdmin):
    list_display = ("label", "type", "node_id", "project")
    list_filter = ("project", "type")
    search_fields = ("label", "node_id", "app_id")


@admin.register(LineageEdge)
class LineageEdgeAdmin(ReadOnlyModelAdmin):
    list_display = ("source", "relation", "target", "project")
    list_filter = ("project", "relation")
    search_fields = ("source", "target")
