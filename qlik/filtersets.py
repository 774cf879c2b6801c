"""django-filter FilterSets of the Qlik API endpoints."""

from datetime import UTC

import django_filters as filters

from qlik.models import (
    QlikApp,
    QlikAppUsage,
    QlikChange,
    QlikDataConnection,
    QlikDataset,
    QlikSpace,
    QlikSyncRun,
)


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    """ISO 8601 with any offset, compared in UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def filter(self, qs, value):
        return super().filter(qs, value.astimezone(UTC) if value else value)


class AppFilterSet(filters.FilterSet):
    space = filters.CharFilter(field_name="spaceId", help_text="Space id")
    status = filters.CharFilter(field_name="status")
    usage = filters.ChoiceFilter(
        field_name="usage_classification",
        choices=QlikAppUsage.Classification.choices,
        help_text="Usage class",
    )
    owner = filters.CharFilter(field_name="ownerId", help_text="Owner user id")
    published = filters.BooleanFilter(field_name="published", help_text="true: published apps only")
    name = filters.CharFilter(field_name="appName", lookup_expr="icontains", help_text="Part of the name")
    reloaded_after = UtcDateTimeFilter(field_name="last_reload_at", lookup_expr="gte")
    reloaded_before = UtcDateTimeFilter(field_name="last_reload_at", lookup_expr="lt")
    viewed_after = UtcDateTimeFilter(field_name="last_viewed_at", lookup_expr="gte")
    viewed_before = UtcDateTimeFilter(field_name="last_viewed_at", lookup_expr="lt")

    class Meta:
        model = QlikApp
        fields = []


class SpaceFilterSet(filters.FilterSet):
    type = filters.CharFilter(field_name="type")
    name = filters.CharFilter(field_name="spaceName", lookup_expr="icontains")

    class Meta:
        model = QlikSpace
        fields = []


class DataConnectionFilterSet(filters.FilterSet):
    type = filters.CharFilter(field_name="qType")
    space = filters.CharFilter(field_name="space")
    name = filters.CharFilter(field_name="qName", lookup_expr="icontains")

    class Meta:
        model = QlikDataConnection
        fields = []


class DatasetFilterSet(filters.FilterSet):
    space = filters.CharFilter(field_name="spaceId", help_text="Space id")
    kind = filters.CharFilter(
        field_name="resourceSubType", help_text="qix-df (data files) or connection_based_dataset"
    )
    name = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the name")

    class Meta:
        model = QlikDataset
        fields = []


class UsageFilterSet(filters.FilterSet):
    classification = filters.ChoiceFilter(
        field_name="usageClassification", choices=QlikAppUsage.Classification.choices
    )

    class Meta:
        model = QlikAppUsage
        fields = []


class SyncRunFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=QlikSyncRun.Status.choices)

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
    kind = filters.MultipleChoiceFilter(choices=QlikChange.Kind.choices, help_text="One or more kinds")
    object_id = filters.CharFilter(
        field_name="object_id", help_text="An app GUID, connection, dataset or edge id"
    )

    class Meta:
        model = QlikChange
        fields = []
