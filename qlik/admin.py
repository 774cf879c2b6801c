"""Read-only admin for the synced Qlik metadata."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from atlas.admin import ProjectListFilter, ReadOnlyModelAdmin, changelist_url, links_html
from lineage.identity import ITEM_ID, app_guid
from lineage.models import LineageEdge, LineageNode
from lineage.selectors import lineage_app_io
from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    QlikChange,
    QlikDataConnection,
    QlikDataset,
    QlikSpace,
    QlikSyncRun,
    QlikUser,
)


class SpaceListFilter(admin.SimpleListFilter):
    """Apps by space: the spaces of the chosen project (or of all visible ones), by name."""

    title = "space"
    parameter_name = "space"
    PERSONAL = "personal"

    def lookups(self, request, model_admin):
        spaces = QlikSpace.objects.order_by("spaceName", "space_id")
        project_id = request.GET.get("project__id__exact")
        if project_id and project_id.isascii() and project_id.isdigit():
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
    search_help_text = "An app's name, GUID, item id or QRI (qri:app:sense://GUID)."
    readonly_fields = ("related", "lineage_sources", "lineage_outputs", "data_pretty")

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if guid := app_guid(term):  # a GUID in any case, or the app's QRI
            results |= queryset.filter(app_id__iexact=guid)
        elif ITEM_ID.match(term):
            results |= queryset.filter(data__item__id=term.lower())
        return results, may_have_duplicates

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
        node = obj.rootNodeId or f"app:{obj.app_id.lower()}"
        graph_url = f"{reverse('lineage-graph', args=[obj.project_id])}?{urlencode({'node': node})}"
        links.append(("lineage graph", graph_url))
        return links_html([(url, label) for label, url in links])

    def _lineage_io(self, obj) -> dict:
        if not hasattr(obj, "_lineage_io"):
            obj._lineage_io = lineage_app_io(project=obj.project, app_id=obj.app_id)
        return obj._lineage_io

    def _node_links(self, obj, nodes: list[dict]):
        if not nodes:
            return "—"
        return links_html(
            [
                (
                    changelist_url(LineageNode, project__id__exact=obj.project_id, node_id=node["id"]),
                    f"{node['type']}: {node['label']}",
                )
                for node in nodes
            ]
        )

    @admin.display(description="lineage sources (where its data comes from)")
    def lineage_sources(self, obj):
        return self._node_links(obj, self._lineage_io(obj)["sources"])

    @admin.display(description="lineage outputs (what it feeds)")
    def lineage_outputs(self, obj):
        return self._node_links(obj, self._lineage_io(obj)["outputs"])


@admin.register(QlikDataConnection)
class QlikDataConnectionAdmin(ReadOnlyModelAdmin):
    list_display = ("qName", "qType", "space", "project", "updated")
    list_filter = (ProjectListFilter, "qType")
    search_fields = ("qName", "=connection_id", "=qri", "=qID")


@admin.register(QlikDataset)
class QlikDatasetAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "resourceSubType", "dataStoreType", "size", "spaceId", "project", "updatedAt")
    list_filter = (ProjectListFilter, "resourceSubType", "dataStoreType")
    search_fields = ("name", "=dataset_id", "=secureQri", "=qri", "technicalName")
    search_help_text = "A dataset's name, item id, QRI or secure QRI."


@admin.register(QlikUser)
class QlikUserAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "email", "status", "user_id", "project")
    list_filter = (ProjectListFilter, "status")
    search_fields = ("name", "email", "=user_id")


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


@admin.register(QlikSyncRun)
class QlikSyncRunAdmin(ReadOnlyModelAdmin):
    """The operational record: what each sync did, cost and why it failed."""

    list_display = (
        "started_at",
        "project",
        "status",
        "trigger",
        "requested_by",
        "duration",
        "apps",
        "api_calls",
        "calls_per_app",
        "rate_limited",
        "apps_with_problems",
        "short_error",
    )
    list_filter = (ProjectListFilter, "status", "trigger")
    list_select_related = ("project__customer", "requested_by")
    search_fields = ("error", "notes")
    date_hierarchy = None
    exclude = ()
    readonly_fields = ()

    def get_readonly_fields(self, request, obj=None):
        fields = [field.name for field in self.model._meta.fields]
        at = fields.index("problems")
        return [*fields[:at], "problems_summary", "problem_apps", *fields[at:]]

    @admin.display(description="problems met")
    def problems_summary(self, obj):
        counts = (obj.problems or {}).get("counts") or []
        skipped = (obj.problems or {}).get("skipped") or []
        if not counts and not skipped:
            return "None: every per-app call answered."
        lines = [entry["summary"] for entry in counts] + [entry["why"] for entry in skipped]
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((line,) for line in lines)))

    @admin.display(description="apps affected (the first ones met)")
    def problem_apps(self, obj):
        apps = (obj.problems or {}).get("apps") or []
        if not apps:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            (
                (
                    entry.get("name") or "(no name)",
                    entry.get("app_id", ""),
                    entry.get("reason", ""),
                    entry.get("status", ""),
                )
                for entry in apps
            ),
        )
        return format_html(
            "<table><thead><tr><th>App name</th><th>GUID</th><th>Reason</th><th>Status</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    def lookup_allowed(self, lookup, value, request=None):
        # The customer list links to all runs of a customer's projects.
        return lookup == "project__customer__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="apps")
    def apps(self, obj):
        return (obj.counts or {}).get("qlik_apps", "-")

    @admin.display(description="error")
    def short_error(self, obj):
        return obj.error[:100]


@admin.register(QlikChange)
class QlikChangeAdmin(ReadOnlyModelAdmin):
    """What changed in each tenant between syncs (the consultants' page has the diffs)."""

    list_display = ("detected_at", "kind", "object_name", "object_id", "project")
    list_filter = (ProjectListFilter, "kind")
    list_select_related = ("project__customer",)
    search_fields = ("object_name", "=object_id")
    readonly_fields = ("run", "detected_at", "kind", "object_id", "object_name", "before", "after")
    exclude = ("data", "script_from", "script_to")
