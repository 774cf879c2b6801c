"""Serializers of Qlik metadata. No secret is in any of them: connections carry their
materialized columns only (qConnectionSecret is never fetched or stored anyway).

Field names are snake_case (README, "The API"): the models keep the seed's camelCase
column names and each field maps to its column with `source=`."""

from rest_framework import serializers

from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    QlikChange,
    QlikDataConnection,
    QlikDataset,
    QlikSpace,
    QlikSyncRun,
)


class SpaceSerializer(serializers.ModelSerializer):
    space_id = serializers.CharField(source="spaceId", read_only=True, help_text="The space's Qlik id")
    name = serializers.CharField(source="spaceName", read_only=True)
    owner_id = serializers.CharField(source="ownerId", read_only=True, help_text="Qlik user id")
    tenant_id = serializers.CharField(source="tenantId", read_only=True)
    created_at = serializers.DateTimeField(source="createdAt", read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(source="updatedAt", read_only=True, allow_null=True)

    class Meta:
        model = QlikSpace
        fields = ("space_id", "name", "type", "owner_id", "tenant_id", "created_at", "updated_at")


class AppSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="appName", read_only=True)
    space_id = serializers.CharField(
        source="spaceId", read_only=True, allow_null=True, help_text="null for a personal app"
    )
    space_name = serializers.CharField(read_only=True, allow_null=True)
    reload_status = serializers.CharField(
        source="status", read_only=True, help_text="The last reload's status: ok, failed or empty"
    )
    file_name = serializers.CharField(source="fileName", read_only=True)
    owner_id = serializers.CharField(source="ownerId", read_only=True, help_text="Qlik user id")
    usage_classification = serializers.CharField(read_only=True, allow_null=True)
    last_viewed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_reload_at = serializers.DateTimeField(read_only=True, allow_null=True)
    owner_name = serializers.CharField(
        read_only=True, allow_null=True, help_text="From the tenant's users listing; null where unknown"
    )
    nodes_count = serializers.IntegerField(source="nodesCount", read_only=True)
    edges_count = serializers.IntegerField(source="edgesCount", read_only=True)
    root_node_id = serializers.CharField(source="rootNodeId", read_only=True)
    lineage_fetched = serializers.BooleanField(source="lineageFetched", read_only=True)
    lineage_success = serializers.BooleanField(source="lineageSuccess", read_only=True)
    problems = serializers.SerializerMethodField(help_text="What the last sync could not read of this app")

    class Meta:
        model = QlikApp
        fields = (
            "app_id",
            "name",
            "space_id",
            "space_name",
            "reload_status",
            "file_name",
            "owner_id",
            "owner_name",
            "published",
            "usage_classification",
            "last_viewed_at",
            "last_reload_at",
            "nodes_count",
            "edges_count",
            "root_node_id",
            "lineage_fetched",
            "lineage_success",
            "problems",
        )

    def get_problems(self, app) -> list[dict]:
        return app.data.get("problems") or []


class AppDetailSerializer(AppSerializer):
    data = serializers.JSONField(
        read_only=True, help_text="The app as Qlik's API answered it, untouched (Qlik's own key names)"
    )

    class Meta(AppSerializer.Meta):
        fields = (*AppSerializer.Meta.fields, "data")


class DataConnectionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="qName", read_only=True)
    type = serializers.CharField(
        source="qType", read_only=True, help_text="The driver, e.g. QvOdbcConnectorPackage.exe"
    )
    space_id = serializers.CharField(
        source="space", read_only=True, help_text="empty for a personal connection"
    )
    owner_id = serializers.CharField(source="user", read_only=True, help_text="Qlik user id of its owner")
    tenant_id = serializers.CharField(source="tenant", read_only=True)
    created_at = serializers.DateTimeField(source="created", read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(source="updated", read_only=True, allow_null=True)
    datasource_id = serializers.CharField(source="datasourceID", read_only=True)
    architecture = serializers.CharField(source="qArchitecture", read_only=True)
    log_on = serializers.CharField(source="qLogOn", read_only=True)
    separate_credentials = serializers.BooleanField(
        source="qSeparateCredentials", read_only=True, allow_null=True
    )
    engine_object_id = serializers.CharField(source="qEngineObjectID", read_only=True)
    connect_statement = serializers.CharField(source="qConnectStatement", read_only=True)

    class Meta:
        model = QlikDataConnection
        fields = (
            "connection_id",
            "name",
            "type",
            "qri",
            "space_id",
            "owner_id",
            "tenant_id",
            "created_at",
            "updated_at",
            "version",
            "datasource_id",
            "architecture",
            "log_on",
            "separate_credentials",
            "engine_object_id",
            "connect_statement",
            "tags",
            "privileges",
        )


class DatasetSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="resourceSubType", read_only=True)
    space_id = serializers.CharField(source="spaceId", read_only=True, allow_null=True)
    owner_id = serializers.CharField(source="ownerId", read_only=True)
    secure_qri = serializers.CharField(source="secureQri", read_only=True)
    technical_name = serializers.CharField(source="technicalName", read_only=True)
    data_store_type = serializers.CharField(source="dataStoreType", read_only=True)
    created_at = serializers.DateTimeField(source="createdAt", read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(source="updatedAt", read_only=True, allow_null=True)

    class Meta:
        model = QlikDataset
        fields = (
            "dataset_id",
            "name",
            "kind",
            "space_id",
            "owner_id",
            "qri",
            "secure_qri",
            "technical_name",
            "data_store_type",
            "size",
            "created_at",
            "updated_at",
        )


class UsageSerializer(serializers.ModelSerializer):
    app_name = serializers.CharField(source="appName", read_only=True)
    usage_classification = serializers.CharField(source="usageClassification", read_only=True)
    reloads = serializers.IntegerField(source="usageReloads", read_only=True)
    app_opens = serializers.IntegerField(source="usageAppOpens", read_only=True)
    sheet_views = serializers.IntegerField(source="usageSheetViews", read_only=True)
    unique_users = serializers.IntegerField(source="usageUniqueUsers", read_only=True)
    last_reload_at = serializers.DateTimeField(source="usageLastReloadAt", read_only=True, allow_null=True)
    last_viewed_at = serializers.DateTimeField(source="usageLastViewedAt", read_only=True, allow_null=True)
    window_days = serializers.IntegerField(source="windowDays", read_only=True)
    generated_at = serializers.DateTimeField(source="generatedAt", read_only=True, allow_null=True)

    class Meta:
        model = QlikAppUsage
        fields = (
            "app_id",
            "app_name",
            "usage_classification",
            "reloads",
            "app_opens",
            "sheet_views",
            "unique_users",
            "last_reload_at",
            "last_viewed_at",
            "window_days",
            "generated_at",
            "connections",
        )


class ScriptSerializer(serializers.ModelSerializer):
    class Meta:
        model = QlikAppScript
        fields = ("app_id", "script")


class ChangeSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="row_id", read_only=True)
    run_id = serializers.IntegerField(read_only=True, allow_null=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    diff = serializers.SerializerMethodField(help_text="Unified diff of a script change, else null")

    class Meta:
        model = QlikChange
        fields = (
            "id",
            "run_id",
            "detected_at",
            "kind",
            "kind_label",
            "object_id",
            "object_name",
            "before",
            "after",
            "diff",
        )

    def get_diff(self, change) -> str | None:
        from qlik.selectors import script_diff

        lines = script_diff(change=change)
        return "\n".join(lines) if lines is not None else None


class SyncRunSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = QlikSyncRun
        fields = (
            "id",
            "trigger",
            "requested_by",
            "full",
            "status",
            "started_at",
            "finished_at",
            "counts",
            "api_calls",
            "rate_limited",
            "retries",
            "bytes_received",
            "calls_by_endpoint",
            "apps_fetched",
            "apps_carried",
            "apps_with_problems",
            "problems",
            "notes",
            "error",
        )


class SyncEnqueuedSerializer(serializers.Serializer):
    job_id = serializers.IntegerField(allow_null=True, help_text="null when a sync was already queued")
    detail = serializers.CharField()
