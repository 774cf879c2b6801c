"""django-filter FilterSets of the Qlik API endpoints.

A value outside a filter's known values (a usage class, a reload status, a dataset kind,
`published=maybe`) is a 400 naming the filter and the values it takes; a name that
matches nothing (`space=No such space`) is an empty list, as any search."""

from datetime import UTC

import django_filters as filters
from django.db.models import Exists, OuterRef, Q

from atlas.api.filters import choice_filter
from qlik.models import (
    QlikApp,
    QlikAppUsage,
    QlikChange,
    QlikDataConnection,
    QlikDataset,
    QlikSpace,
    QlikSyncRun,
    QlikUser,
)


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    """ISO 8601 with any offset, compared in UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def filter(self, qs, value):
        return super().filter(qs, value.astimezone(UTC) if value else value)


def date_filter(field_name: str, lookup_expr: str, what: str) -> UtcDateTimeFilter:
    return UtcDateTimeFilter(
        field_name=field_name,
        lookup_expr=lookup_expr,
        help_text=f"{what}, ISO 8601, e.g. 2025-01-31 or 2025-01-31T08:00:00Z (compared in UTC).",
    )


BOOLEAN = [("true", "true"), ("false", "false")]
RELOAD_STATUSES = [("ok", "ok"), ("failed", "failed")]
SPACE_TYPES = [("shared", "shared"), ("managed", "managed"), ("data", "data")]
DATASET_KINDS = [("qix-df", "qix-df"), ("connection_based_dataset", "connection_based_dataset")]
SPACE_HELP = "A space's id or its exact name (case-insensitive), e.g. `space=Sales`."


def _space_named(value: str, space_column: str) -> Exists:
    """Rows whose space (by id in `space_column`) has this name, in the same project."""
    return Exists(
        QlikSpace.objects.filter(
            project_id=OuterRef("project_id"), spaceId=OuterRef(space_column), spaceName__iexact=value
        )
    )


class AppFilterSet(filters.FilterSet):
    space = filters.CharFilter(method="space_filter", help_text=SPACE_HELP)
    owner = filters.CharFilter(
        method="owner_filter",
        help_text="The owner's Qlik user id or exact name (case-insensitive, from the tenant's users "
        "listing), e.g. `owner=Ada Lovelace`.",
    )
    usage = choice_filter(
        field_name="usage_classification",
        choices=QlikAppUsage.Classification.choices,
        help_text="Usage class over the usage window.",
    )
    reload_status = choice_filter(
        field_name="status", choices=RELOAD_STATUSES, help_text="The last reload's status."
    )
    published = choice_filter(
        field_name="published",
        choices=BOOLEAN,
        help_text="Published apps (true) or not (false).",
        typed=filters.TypedChoiceFilter,
        coerce=lambda value: value == "true",
    )
    name = filters.CharFilter(field_name="appName", lookup_expr="icontains", help_text="Part of the name.")
    reloaded_after = date_filter("last_reload_at", "gte", "Last reloaded at or after")
    reloaded_before = date_filter("last_reload_at", "lt", "Last reloaded before")
    viewed_after = date_filter("last_viewed_at", "gte", "Last viewed at or after")
    viewed_before = date_filter("last_viewed_at", "lt", "Last viewed before")

    class Meta:
        model = QlikApp
        fields = []

    def owner_filter(self, queryset, name, value):
        named = Exists(
            QlikUser.objects.filter(
                project_id=OuterRef("project_id"), user_id=OuterRef("ownerId"), name__iexact=value
            )
        )
        return queryset.filter(Q(ownerId=value) | Q(named))

    def space_filter(self, queryset, name, value):
        return queryset.filter(Q(spaceId=value) | Q(space_name__iexact=value))


class SpaceFilterSet(filters.FilterSet):
    type = choice_filter(field_name="type", choices=SPACE_TYPES, help_text="The space's type.")
    name = filters.CharFilter(field_name="spaceName", lookup_expr="icontains", help_text="Part of the name.")

    class Meta:
        model = QlikSpace
        fields = []


class DataConnectionFilterSet(filters.FilterSet):
    type = filters.CharFilter(field_name="qType", help_text="The driver, exactly, e.g. `type=folder`.")
    space = filters.CharFilter(method="space_filter", help_text=SPACE_HELP)
    name = filters.CharFilter(field_name="qName", lookup_expr="icontains", help_text="Part of the name.")

    class Meta:
        model = QlikDataConnection
        fields = []

    def space_filter(self, queryset, name, value):
        return queryset.filter(Q(space=value) | _space_named(value, "space"))


class DatasetFilterSet(filters.FilterSet):
    space = filters.CharFilter(method="space_filter", help_text=SPACE_HELP)
    kind = choice_filter(
        field_name="resourceSubType",
        choices=DATASET_KINDS,
        help_text="qix-df for data files, connection_based_dataset for tables behind a connection.",
    )
    name = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the name.")
    updated_after = date_filter("updatedAt", "gte", "Updated at or after")
    updated_before = date_filter("updatedAt", "lt", "Updated before")

    class Meta:
        model = QlikDataset
        fields = []

    def space_filter(self, queryset, name, value):
        return queryset.filter(Q(spaceId=value) | _space_named(value, "spaceId"))


class UsageFilterSet(filters.FilterSet):
    usage = choice_filter(
        field_name="usageClassification",
        choices=QlikAppUsage.Classification.choices,
        help_text="Usage class over the usage window.",
    )
    viewed_after = date_filter("usageLastViewedAt", "gte", "Last viewed at or after")
    viewed_before = date_filter("usageLastViewedAt", "lt", "Last viewed before")

    class Meta:
        model = QlikAppUsage
        fields = []


class SyncRunFilterSet(filters.FilterSet):
    status = choice_filter(
        field_name="status", choices=QlikSyncRun.Status.choices, help_text="The run's status."
    )
    started_after = date_filter("started_at", "gte", "Started at or after")
    started_before = date_filter("started_at", "lt", "Started before")

    class Meta:
        model = QlikSyncRun
        fields = []


class ChangeFilterSet(filters.FilterSet):
    since = UtcDateTimeFilter(
        field_name="detected_at", lookup_expr="gte", help_text="ISO 8601; changes found at or after"
    )
    until = UtcDateTimeFilter(
        field_name="detected_at", lookup_expr="lt", help_text="ISO 8601; changes found before"
    )
    kind = filters.MultipleChoiceFilter(
        choices=QlikChange.Kind.choices, help_text="One or more kinds, e.g. `kind=app_removed`"
    )
    object_id = filters.CharFilter(
        field_name="object_id", help_text="An app GUID, connection, dataset or edge id"
    )

    class Meta:
        model = QlikChange
        fields = []
