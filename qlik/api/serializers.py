"""Serializers of Qlik metadata. No secret is in any of them: connections carry their
materialized columns only (qConnectionSecret is never fetched or stored anyway)."""

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
    class Meta:
        model = QlikSpace
        fields = ("spaceId", "spaceName", "type", "ownerId", "tenantId", "createdAt", "updatedAt")


class AppSerializer(serializers.ModelSerializer):
    space_name = serializers.CharField(read_only=True, allow_null=True)
    usage_classification = serializers.CharField(read_only=True, allow_null=True)
    last_viewed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_reload_at = serializers.DateTimeField(read_only=True, allow_null=True)
    owner_id = serializers.CharField(source="ownerId", read_only=True)
    owner_name = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = QlikApp
        fields = (
            "app_id",
            "appName",
            "spaceId",
            "space_name",
            "status",
            "fileName",
            "owner_id",
            "owner_name",
            "published",
            "usage_classification",
            "last_viewed_at",
            "last_reload_at",
            "nodesCount",
            "edgesCount",
            "rootNodeId",
            "lineageFetched",
            "lineageSuccess",
            "problems",
        )

    problems = serializers.SerializerMethodField(help_text="What the last sync could not read of this app")

    def get_problems(self, app) -> list[dict]:
        return app.data.get("problems") or []


class AppDetailSerializer(AppSerializer):
    class Meta(AppSerializer.Meta):
        fields = (*AppSerializer.Meta.fields, "data")


class DataConnectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = QlikDataConnection
        fields = (
            "connection_id",
            "qName",
            "qType",
            "qri",
            "space",
            "user",
            "tenant",
            "created",
            "updated",
            "version",
            "datasourceID",
            "qArchitecture",
            "qLogOn",
            "qSeparateCredentials",
            "qEngineObjectID",
            "qConnectStatement",
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
    class Meta:
        model = QlikAppUsage
        fields = (
            "app_id",
            "appName",
            "usageClassification",
            "usageReloads",
            "usageAppOpens",
            "usageSheetViews",
            "usageUniqueUsers",
            "usageLastReloadAt",
            "usageLastViewedAt",
            "windowDays",
            "generatedAt",
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
    job_id = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField()
