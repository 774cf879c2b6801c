"""Read-only admin for the synced Qlik metadata."""

from django.contrib import admin

from atlas.admin import ReadOnlyModelAdmin
from qlik.models import QlikApp, QlikAppScript, QlikAppUsage, QlikDataConnection, QlikSpace


@admin.register(QlikSpace)
class QlikSpaceAdmin(ReadOnlyModelAdmin):
    list_display = ("spaceName", "type", "spaceId", "project", "updatedAt")
    list_filter = ("project", "type")
    search_fields = ("spaceName", "space_id")


@admin.register(QlikApp)
class QlikAppAdmin(ReadOnlyModelAdmin):
    list_display = ("appName", "status", "spaceId", "project", "nodesCount", "edgesCount", "lineageSuccess")
    list_filter = ("project", "status", "lineageSuccess")
    search_fields = ("appName", "app_id")


@admin.register(QlikDataConnection)
class QlikDataConnectionAdmin(ReadOnlyModelAdmin):
    list_display = ("qName", "qType", "space", "project", "updated")
    list_filter = ("project", "qType")
    search_fields = ("qName", "connection_id", "qri")


@admin.register(QlikAppUsage)
class QlikAppUsageAdmin(ReadOnlyModelAdmin):
    list_display = (
        "appName",
        "usageClassification",
        "usageSheetViews",
        "usageUniqueUsers",
        "usageLastViewedAt",
        "project",
    )
    list_filter = ("project", "usageClassification")
    search_fields = ("appName", "app_id")


@admin.register(QlikAppScript)
class QlikAppScriptAdmin(ReadOnlyModelAdmin):
    list_display = ("app_id", "project")
    list_filter = ("project",)
    search_fields = ("app_id", "script")
    readonly_fields = ()  # the payload only repeats the script
