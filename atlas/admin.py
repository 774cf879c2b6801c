"""Admin building blocks shared by the apps."""

import json

from django.contrib import admin
from django.utils.html import format_html


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Browse synced rows: no add, change or delete; the raw payload shown collapsed."""

    show_full_result_count = False  # no second COUNT(*) over the whole table per page
    list_per_page = 50

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="raw API object")
    def data_pretty(self, obj):
        return format_html(
            "<details><summary>show JSON</summary><pre>{}</pre></details>",
            json.dumps(obj.data, indent=2, sort_keys=True, default=str),
        )
