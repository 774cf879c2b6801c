"""Read-only admin for the lineage graph."""

from django.contrib import admin

from atlas.admin import ProjectListFilter, ReadOnlyModelAdmin, changelist_url, links_html
from lineage import identity
from lineage.models import LineageEdge, LineageNode
from qlik.models import QlikApp


@admin.register(LineageNode)
class LineageNodeAdmin(ReadOnlyModelAdmin):
    list_display = ("label", "type", "node_id", "project")
    list_filter = (ProjectListFilter, "type")
    search_fields = ("label", "=node_id", "=app_id")
    search_help_text = "A label, a node id, an app GUID or a QRI (of an app, a file, a table ...)."
    readonly_fields = ("related", "data_pretty")

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if guid := identity.app_guid(term):
            results |= queryset.filter(node_id=identity.app_node_id(guid))
        elif term.lower().startswith(("qri:", "qdf:")):  # QRIs: the lineage API's, a dataset's
            results |= (
                queryset.filter(node_id=identity.qri_node_id(term))
                | queryset.filter(data__qri=term)
                | queryset.filter(data__secure_qri=term)  # a data file, as the lineage API names it
            )
        return results, may_have_duplicates

    @admin.display(description="related")
    def related(self, obj):
        links = [
            ("edges out", changelist_url(LineageEdge, project__id__exact=obj.project_id, source=obj.node_id)),
            ("edges in", changelist_url(LineageEdge, project__id__exact=obj.project_id, target=obj.node_id)),
        ]
        if obj.app_id:
            links.append(
                ("app", changelist_url(QlikApp, project__id__exact=obj.project_id, app_id=obj.app_id))
            )
        return links_html([(url, label) for label, url in links])


@admin.register(LineageEdge)
class LineageEdgeAdmin(ReadOnlyModelAdmin):
    list_display = ("source", "relation", "target", "project")
    list_filter = (ProjectListFilter, "relation")
    search_fields = ("=source", "=target", "=edge_id")
    readonly_fields = ("related", "data_pretty")

    @admin.display(description="related")
    def related(self, obj):
        return links_html(
            [
                (
                    changelist_url(LineageNode, project__id__exact=obj.project_id, node_id=node_id),
                    f"{role} node",
                )
                for role, node_id in (("source", obj.source), ("target", obj.target))
            ]
        )
