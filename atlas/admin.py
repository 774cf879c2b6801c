"""Admin building blocks shared by the apps."""

import json
from functools import cached_property
from urllib.parse import urlencode

from django.contrib import admin
from django.core.paginator import InvalidPage, PageNotAnInteger, Paginator
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html, format_html_join


def is_staff(request) -> bool:
    return request.user.is_active and request.user.is_staff


def changelist_url(model, **filters) -> str:
    """The admin list of `model` narrowed by field lookups, e.g. project__id__exact=3."""
    meta = model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def links_html(links: list[tuple[str, str]]):
    return format_html_join(" · ", '<a href="{}">{}</a>', links)


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to `exact_limit` rows and lets the planner estimate beyond.

    A changelist of a project with 10,000 apps must not pay a COUNT(*) over all of them on
    every page: the exact count is bounded (COUNT over a LIMIT subquery), and past the
    bound the number comes from EXPLAIN's row estimate, which is computed under the same
    RLS policies as the query itself. Page numbers past an estimate are allowed; a page
    beyond the real end is simply empty.
    """

    exact_limit = 1000

    @cached_property
    def count(self) -> int:
        exact = self.object_list[: self.exact_limit + 1].count()
        if exact <= self.exact_limit:
            self.estimated = False
            return exact
        self.estimated = True
        plan = json.loads(self.object_list.explain(format="json"))
        return max(int(plan[0]["Plan"]["Plan Rows"]), exact)

    def validate_number(self, number):
        if self.count and getattr(self, "estimated", False):
            try:
                number = int(number)
            except (TypeError, ValueError):
                raise PageNotAnInteger("That page number is not an integer")
            if number < 1:
                raise InvalidPage("That page number is less than 1")
            return number
        return super().validate_number(number)

    def page(self, number):
        if not (self.count and getattr(self, "estimated", False)):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)


class ProjectListFilter(admin.SimpleListFilter):
    """By project, named "customer / project", in one query (the stock filter loads each
    project's customer separately). Same parameter as the stock filter, so links keep working."""

    title = "project"
    parameter_name = "project__id__exact"

    def lookups(self, request, model_admin):
        from customers.selectors import project_list

        return [(str(project.pk), str(project)) for project in project_list()]

    def queryset(self, request, queryset):
        value = self.value()
        return (
            queryset.filter(project_id=value) if value and value.isascii() and value.isdigit() else queryset
        )


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

    paginator = EstimatedCountPaginator
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
