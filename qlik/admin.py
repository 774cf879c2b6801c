"""Read-only admin for the synced Qlik metadata."""

from django.contrib import admin

from atlas.admin import ProjectListFilter, ReadOnlyModelAdmin, changelist_url, links_html
from lineage.models import LineageEdge, LineageNode
from qlik.models import QlikApp, QlikAppScript, QlikAppUsage, QlikDataConnection, QlikSpace


class SpaceListFilter(admin.SimpleListFilter):
    """Apps by space: the spaces of the chosen project (or of all visible ones), by name."""

    title = "space"
    parameter_name = "space"
    PERSONAL = "personal"

    def lookups(self, request, model_admin):
        spaces = QlikSpace.objects.order_by("spaceName", "space_id")
        project_id = request.GET.get("project__id__exact")
        if project_id and project_id.isdigit():
            spaces = spaces.filter(project_id=project_id)
        choices = dict(spaces.values_list("space_id", "spaceName"))
        return [(self.PERSONAL, "(personal, no space)"), *choices.items()]

    def queryset(self, request, queryset):
        if self.value() == self.PERSONAL:
            return queryset.filter(spaceId__isnull=True, space_id__isnull=True)
        if self.value():
            return queryset.filter(spaceId=self.value())
        return queryset


def _app_filters(obj) -> dict:
    return {"project__id__exact": obj.project_id, "app_id": obj.app_id}


@admin.register(QlikSpace)
class QlikSpaceAdmin(ReadOnlyModelAdmin):
    list_display = ("spaceName", "type", "spaceId", "project", "updatedAt")
    list_filter = (ProjectListFilter, "type")
    search_fields = ("spaceName", "space_id")
    readonly_fields = ("related", "data_pretty")

    @admin.display(description="related")
    def related(self, obj):
        return links_html(
            [
                (
                    "apps in this space",
                    changelist_url(QlikApp, project__id__exact=obj.project_id, space=obj.space_id),
                ),
                (
                    "data connections in this space",
                    changelist_url(QlikDataConnection, project__id__exact=obj.project_id, space=obj.space_id),
                ),
            ]
        )


@admin.register(QlikApp)
class QlikAppAdmin(ReadOnlyModelAdmin):
    list_display = (
        "appName",
        "status",
        "space_link",
        "project",
        "nodesCount",
        "edgesCount",
        "lineageSuccess",
    )
    list_filter = (ProjectListFilter, SpaceListFilter, "status", "lineageSuccess")
    search_fields = ("appName", "=app_id", "=rootNodeId")
    readonly_fields = ("related", "data_pretty")

    @admin.display(description="space", ordering="spaceId")
    def space_link(self, obj):
        space_id = obj.spaceId or obj.space_id
        if not space_id:
            return "(personal)"
        url = changelist_url(QlikSpace, project__id__exact=obj.project_id, space_id=space_id)
        return links_html([(url, space_id)])

    @admin.display(description="related")
    def related(self, obj):
        links = [
            ("usage", changelist_url(QlikAppUsage, **_app_filters(obj))),
            ("load script", changelist_url(QlikAppScript, **_app_filters(obj))),
            ("lineage nodes", changelist_url(LineageNode, **_app_filters(obj))),
        ]
        if obj.rootNodeId:
            same_project = {"project__id__exact": obj.project_id}
            links += [
                ("lineage inputs", changelist_url(LineageEdge, **same_project, target=obj.rootNodeId)),
                ("lineage outputs", changelist_url(LineageEdge, **same_project, source=obj.rootNodeId)),
            ]
        space_id = obj.spaceId or obj.space_id
        if space_id:
            links.insert(
                0, ("space", changelist_url(QlikSpace, project__id__exact=obj.project_id, space_id=space_id))
            )
        return links_html([(url, label) for label, url in links])


@admin.register(QlikDataConnection)
class QlikDataConnectionAdmin(ReadOnlyModelAdmin):
    list_display = ("qName", "qType", "space", "project", "updated")
    list_filter = (ProjectListFilter, "qType")
    search_fields = ("qName", "=connection_id", "=qri", "=qID")


@admin.register(QlikAppUsage)
class QlikAppUsageAdmin(ReadOnlyModelAdmin):
    list_display = (
        "appName",
        "usageClassification",
        "usageSheetViews",
        "usageUniqueUsers",
        "usageReloads",
        "usageLastViewedAt",
        "project",
    )
    list_filter = (ProjectListFilter, "usageClassification", "windowDays")
    search_fields = ("appName", "=app_id")
    readonly_fields = ("app_link", "data_pretty")

    @admin.display(description="app")
    def app_link(self, obj):
        return links_html([(changelist_url(QlikApp, **_app_filters(obj)), obj.app_id)])


@admin.register(QlikAppScript)
class QlikAppScriptAdmin(ReadOnlyModelAdmin):
    list_display = ("app_id", "project")
    list_filter = (ProjectListFilter,)
    search_fields = ("=app_id", "script")
    readonly_fields = ("app_link",)  # the payload only repeats the script
    app_link = QlikAppUsageAdmin.app_link
