"""Read-only admin for the synced Qlik metadata."""

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.db import models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from atlas.admin import ProjectListFilter, ReadOnlyModelAdmin, changelist_url, links_html
from lineage.identity import ITEM_ID, app_guid
from lineage.models import LineageEdge, LineageNode
from lineage.selectors import LineageNodeNotFound, lineage_app_io
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

EMPTY = "—"


def column(field: str, description: str, *, boolean: bool = False):
    """A changelist column showing a model field under a heading for people ("App name", not
    APPNAME), still sortable by the field."""

    @admin.display(description=description, ordering=field, boolean=boolean)
    def show(obj):
        if display := getattr(obj, f"get_{field}_display", None):  # a field with choices
            return display()
        value = getattr(obj, field)
        if boolean:
            return value
        return EMPTY if value == "" else display_for_value(value, EMPTY)  # dates as the list shows them

    show.__name__ = f"{field}_column"
    return show


def titled(field: str, title: str, base=admin.AllValuesFieldListFilter):
    """The stock filter of a field, titled for people ("By usage", not "By usageClassification")."""

    def __init__(self, *args, **kwargs):
        base.__init__(self, *args, **kwargs)
        self.title = title

    return (field, type(f"Titled{base.__name__}", (base,), {"__init__": __init__}))


def seconds_text(seconds: float | None) -> str:
    """8.2 s, 3 min 12 s, 1 h 4 min; an em dash for no value."""
    if seconds is None:
        return EMPTY
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def with_space_name(queryset, space_field):
    """Annotate each row with its space's name (`space_name`), in the same query: one
    correlated subquery on the project's spaces, never a query per row."""
    names = QlikSpace.objects.filter(project_id=OuterRef("project_id"), space_id=OuterRef("_space_key"))
    return queryset.annotate(_space_key=space_field).annotate(
        space_name=Subquery(names.values("spaceName")[:1])
    )


def space_html(obj, space_id: str | None):
    """The space's name linked to it, its id beside; "(personal)" for an app in no space."""
    if not space_id:
        return "(personal)"
    url = changelist_url(QlikSpace, project__id__exact=obj.project_id, space_id=space_id)
    name = getattr(obj, "space_name", None) or "(space not synced)"
    return format_html('<a href="{}">{}</a><br><span class="quiet">{}</span>', url, name, space_id)


class QlikAdmin(ReadOnlyModelAdmin):
    """Labels for people on the change page too: `labels` names the API's fields (appName ...)
    as people would ("App name"), without touching the models (a verbose_name is a migration)."""

    empty_value_display = EMPTY
    labels: dict[str, str] = {}

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        for field, label in self.labels.items():
            boolean = isinstance(model._meta.get_field(field), models.BooleanField)
            setattr(self, f"{field}_shown", column(field, label, boolean=boolean))

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(f"{field}_shown" for field in self.labels)]

    def get_fields(self, request, obj=None):
        fields = [f"{f}_shown" if f in self.labels else f for f in super().get_fields(request, obj)]
        return list(dict.fromkeys(fields))  # each once, where the model has it


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
class QlikSpaceAdmin(QlikAdmin):
    labels = {
        "spaceName": "Space name",
        "spaceId": "Space id (API)",
        "ownerId": "Owner id",
        "tenantId": "Tenant id",
        "createdAt": "Created",
        "updatedAt": "Updated",
    }
    list_display = (
        column("spaceName", "Space name"),
        column("type", "Type"),
        "space_id_column",
        "project",
        column("updatedAt", "Updated"),
    )
    list_filter = (ProjectListFilter, titled("type", "type"))
    search_fields = ("spaceName", "space_id")
    readonly_fields = ("related", "data_pretty")

    @admin.display(description="Space id", ordering="space_id")
    def space_id_column(self, obj):
        return obj.space_id

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
class QlikAppAdmin(QlikAdmin):
    labels = {
        "appName": "App name",
        "space_id": "Space id (catalog item)",
        "spaceId": "Space id (app)",
        "fileName": "File name",
        "nodesCount": "Lineage nodes",
        "edgesCount": "Lineage edges",
        "rootNodeId": "Root lineage node",
        "lineageFetched": "Lineage fetched",
        "lineageSuccess": "Lineage read",
        "ownerId": "Owner id",
    }
    list_display = (
        column("appName", "App name"),
        column("status", "Status"),
        "space_link",
        "project",
        column("nodesCount", "Lineage nodes"),
        column("edgesCount", "Lineage edges"),
        column("lineageSuccess", "Lineage read", boolean=True),
    )
    list_filter = (
        ProjectListFilter,
        SpaceListFilter,
        titled("status", "status"),
        titled("lineageSuccess", "lineage read", admin.BooleanFieldListFilter),
    )
    search_fields = ("appName", "=app_id", "=rootNodeId")
    search_help_text = "An app's name, GUID, item id or QRI (qri:app:sense://GUID)."
    readonly_fields = ("space", "related", "lineage_sources", "lineage_outputs", "data_pretty")

    def get_queryset(self, request):
        return with_space_name(super().get_queryset(request), Coalesce(F("spaceId"), F("space_id")))

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if guid := app_guid(term):  # a GUID in any case, or the app's QRI
            results |= queryset.filter(app_id__iexact=guid)
        elif ITEM_ID.match(term):
            results |= queryset.filter(data__item__id=term.lower())
        return results, may_have_duplicates

    @admin.display(description="Space", ordering="space_name")
    def space_link(self, obj):
        return space_html(obj, obj.spaceId or obj.space_id)

    @admin.display(description="space")
    def space(self, obj):
        return space_html(obj, obj.spaceId or obj.space_id)

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
            try:
                obj._lineage_io = lineage_app_io(project=obj.project, app_id=obj.app_id)
            except LineageNodeNotFound:  # no lineage read for it (yet): nothing to list, not a 500
                obj._lineage_io = {"sources": [], "outputs": []}
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
class QlikDataConnectionAdmin(QlikAdmin):
    labels = {
        "qName": "Connection name",
        "qType": "Type",
        "qID": "Engine id",
        "qri": "QRI",
        "space": "Space id",
        "qLogOn": "Log-on",
        "datasourceID": "Data source",
        "qArchitecture": "Architecture",
        "qCredentialsID": "Credentials id",
        "qEngineObjectID": "Engine object id",
        "qConnectStatement": "Connect statement",
        "qSeparateCredentials": "Separate credentials",
    }
    list_display = (
        column("qName", "Connection name"),
        column("qType", "Type"),
        "space_link",
        "project",
        column("updated", "Updated"),
    )
    list_filter = (ProjectListFilter, titled("qType", "type"))
    search_fields = ("qName", "=connection_id", "=qri", "=qID")
    readonly_fields = ("space_link", "data_pretty")

    def get_queryset(self, request):
        return with_space_name(super().get_queryset(request), F("space"))

    @admin.display(description="Space", ordering="space_name")
    def space_link(self, obj):
        return space_html(obj, obj.space)


@admin.register(QlikDataset)
class QlikDatasetAdmin(QlikAdmin):
    labels = {
        "name": "Dataset name",
        "resourceSubType": "Kind",
        "resourceId": "Resource id",
        "spaceId": "Space id",
        "ownerId": "Owner id",
        "qri": "QRI",
        "secureQri": "Secure QRI",
        "technicalName": "Technical name",
        "dataStoreType": "Stored in",
        "createdAt": "Created",
        "updatedAt": "Updated",
    }
    list_display = (
        column("name", "Dataset name"),
        column("resourceSubType", "Kind"),
        column("dataStoreType", "Stored in"),
        "size_text",
        "space_link",
        "project",
        column("updatedAt", "Updated"),
    )
    list_filter = (
        ProjectListFilter,
        titled("resourceSubType", "kind"),
        titled("dataStoreType", "stored in"),
    )
    search_fields = ("name", "=dataset_id", "=secureQri", "=qri", "technicalName")
    search_help_text = "A dataset's name, item id, QRI or secure QRI."
    readonly_fields = ("space_link", "data_pretty")

    def get_queryset(self, request):
        return with_space_name(super().get_queryset(request), F("spaceId"))

    @admin.display(description="Size", ordering="size")
    def size_text(self, obj):
        return EMPTY if obj.size is None else filesizeformat(obj.size)

    @admin.display(description="Space", ordering="space_name")
    def space_link(self, obj):
        return space_html(obj, obj.spaceId)


@admin.register(QlikUser)
class QlikUserAdmin(QlikAdmin):
    list_display = (
        column("name", "Name"),
        column("email", "Email"),
        column("status", "Status"),
        column("user_id", "User id"),
        "project",
    )
    list_filter = (ProjectListFilter, titled("status", "status"))
    search_fields = ("name", "email", "=user_id")


@admin.register(QlikAppUsage)
class QlikAppUsageAdmin(QlikAdmin):
    labels = {
        "appName": "App name",
        "windowDays": "Window (days)",
        "generatedAt": "Generated",
        "artifactFileName": "Artifact file",
        "usageReloads": "Reloads",
        "usageAppOpens": "App opens",
        "usageSheetViews": "Sheet views",
        "usageUniqueUsers": "Unique users",
        "usageLastReloadAt": "Last reload",
        "usageLastViewedAt": "Last viewed",
        "usageClassification": "Usage",
    }
    list_display = (
        column("appName", "App name"),
        column("usageClassification", "Usage"),
        column("usageSheetViews", "Sheet views"),
        column("usageUniqueUsers", "Unique users"),
        column("usageReloads", "Reloads"),
        column("usageLastViewedAt", "Last viewed"),
        "project",
    )
    list_filter = (
        ProjectListFilter,
        titled("usageClassification", "usage", admin.ChoicesFieldListFilter),
        titled("windowDays", "window (days)"),
    )
    search_fields = ("appName", "=app_id")
    readonly_fields = ("app_link", "data_pretty")

    @admin.display(description="app")
    def app_link(self, obj):
        return links_html([(changelist_url(QlikApp, **_app_filters(obj)), obj.app_id)])


@admin.register(QlikAppScript)
class QlikAppScriptAdmin(QlikAdmin):
    list_display = (column("app_id", "App GUID"), "project")
    list_filter = (ProjectListFilter,)
    search_fields = ("=app_id", "script")
    readonly_fields = ("app_link",)  # the payload only repeats the script
    app_link = QlikAppUsageAdmin.app_link


@admin.register(QlikSyncRun)
class QlikSyncRunAdmin(QlikAdmin):
    """The operational record: what each sync did, cost and why it failed."""

    list_display = (
        column("started_at", "Started"),
        "project",
        column("status", "Status"),
        column("trigger", "Trigger"),
        column("requested_by", "Requested by"),
        "duration_text",
        "apps",
        column("api_calls", "API calls"),
        "calls_per_app_text",
        column("rate_limited", "Rate limited (429)"),
        column("apps_with_problems", "Apps with problems"),
        "short_error",
    )
    list_filter = (ProjectListFilter, "status", "trigger")
    list_select_related = ("project__customer", "requested_by")
    search_fields = ("error", "notes")
    date_hierarchy = None
    exclude = ("storage_seconds", "changes_seconds", "write_seconds")  # shown as times
    readonly_fields = ()

    def get_readonly_fields(self, request, obj=None):
        # Times for people ("8.2 s"), beside the fields they come from.
        shown = {
            "storage_seconds": "storage_time",
            "changes_seconds": "changes_time",
            "write_seconds": "write_time",
        }
        fields = [shown.get(field.name, field.name) for field in self.model._meta.fields]
        fields.insert(fields.index("finished_at") + 1, "duration_text")
        at = fields.index("problems")
        return [*fields[:at], "problems_summary", "problem_apps", *fields[at:]]

    @admin.display(description="Duration", ordering=F("finished_at") - F("started_at"))
    def duration_text(self, obj):
        if obj.duration is None:
            return "(still running)" if obj.status == QlikSyncRun.Status.RUNNING else EMPTY
        return seconds_text(obj.duration.total_seconds())

    @admin.display(description="storage time", ordering="storage_seconds")
    def storage_time(self, obj):
        return seconds_text(obj.storage_seconds)

    @admin.display(description="of which finding changes", ordering="changes_seconds")
    def changes_time(self, obj):
        return seconds_text(obj.changes_seconds)

    @admin.display(description="of which writing rows", ordering="write_seconds")
    def write_time(self, obj):
        return seconds_text(obj.write_seconds)

    @admin.display(description="Calls per app")
    def calls_per_app_text(self, obj):
        return EMPTY if obj.calls_per_app is None else obj.calls_per_app

    @admin.display(description="problems met")
    def problems_summary(self, obj):
        lines = obj.problem_lines
        if not lines:
            return "No problems: every per-app call answered."
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
                    entry.get("app_id") or EMPTY,
                    entry.get("reason") or EMPTY,
                    entry.get("status") or EMPTY,
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

    @admin.display(description="Apps")
    def apps(self, obj):
        return (obj.counts or {}).get("qlik_apps", EMPTY)

    ERROR_CHARS = 120

    @admin.display(description="Error")
    def short_error(self, obj):
        """The start of the error, the whole of it on hover and on the run's page."""
        error = " ".join(obj.error.split())
        if not error:
            return EMPTY
        if len(error) <= self.ERROR_CHARS:
            return error
        return format_html('<span title="{}">{}…</span>', obj.error, error[: self.ERROR_CHARS].rstrip())


@admin.register(QlikChange)
class QlikChangeAdmin(QlikAdmin):
    """What changed in each tenant between syncs (the consultants' page has the diffs)."""

    list_display = ("detected_at", "kind", "object_name", "object_id", "project")
    list_filter = (ProjectListFilter, "kind")
    list_select_related = ("project__customer",)
    search_fields = ("object_name", "=object_id")
    readonly_fields = ("run", "detected_at", "kind", "object_id", "object_name", "before", "after")
    exclude = ("data", "script_from", "script_to")
