"""Admin building blocks shared by the apps."""

import json

from django.contrib import admin
from django.http import Http404
from django.utils.html import format_html


def is_staff(request) -> bool:
    return request.user.is_active and request.user.is_staff


class StaffViewableAdmin(admin.ModelAdmin):
    """Every active staff member may look; RLS decides which rows they see."""

    def has_module_permission(self, request):
        return is_staff(request)

    def has_view_permission(self, request, obj=None):
        return is_staff(request)

    def get_object(self, request, object_id, from_field=None):
        # A row RLS hides is "not found", as for a row that does not exist (Django would
        # redirect to the index with a message instead).
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with id {object_id!r}.")
        return obj


class ReadOnlyModelAdmin(StaffViewableAdmin):
    """Browse synced rows: no add, change or delete; the raw payload shown collapsed."""

    show_full_result_count = False  # no second COUNT(*) over the whole table per page
    list_per_page = 50
    list_select_related = ("project__customer",)  # list_display shows the project
    exclude = ("data",)
    readonly_fields = ("data_pretty",)

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
