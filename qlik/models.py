"""Qlik Cloud metadata per project: the raw API object in `data` plus materialized columns.

Materialized columns keep the Qlik payload's own (camelCase) names, in the database as the
schema document prescribes and in Python too, so `app.spaceId` reads the same in code, SQL,
the API and Qlik's documentation.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models

from customers.models import ProjectScopedModel


class QlikSpace(ProjectScopedModel):
    """A shared, managed or data space of the tenant."""

    space_id = models.CharField(max_length=64)
    spaceName = models.TextField(db_column="spaceName", blank=True)
    spaceId = models.CharField(db_column="spaceId", max_length=64, null=True, blank=True)
    ownerId = models.CharField(db_column="ownerId", max_length=64, blank=True)
    tenantId = models.CharField(db_column="tenantId", max_length=64, blank=True)
    type = models.CharField(db_column="type", max_length=32, blank=True)
    createdAt = models.DateTimeField(db_column="createdAt", null=True, blank=True)
    updatedAt = models.DateTimeField(db_column="updatedAt", null=True, blank=True)

    class Meta:
        db_table = "qlik_spaces"
        verbose_name = "Qlik space"
        constraints = [
            models.UniqueConstraint(fields=("project", "space_id"), name="qlik_spaces_project_space_uniq")
        ]
        indexes = [
            models.Index(fields=("project", "spaceId"), name="qlik_spaces_project_spaceid"),
            GinIndex(fields=["spaceName"], opclasses=["gin_trgm_ops"], name="qlik_spaces_name_trgm"),
            GinIndex(SearchVector("spaceName", config="simple"), name="qlik_spaces_name_fts"),
        ]

    def __str__(self) -> str:
        return self.spaceName or self.space_id


class QlikApp(ProjectScopedModel):
    """A Qlik Sense app (item joined with its app attributes) and its lineage summary."""

    app_id = models.CharField(max_length=64, help_text="App GUID (item resourceId)")
    # Legacy join key kept by older rows; spaceId (materialized) is preferred.
    space_id = models.CharField(max_length=64, null=True, blank=True)
    appName = models.TextField(db_column="appName", blank=True)
    spaceId = models.CharField(db_column="spaceId", max_length=64, null=True, blank=True)
    status = models.CharField(db_column="status", max_length=32, blank=True)
    fileName = models.TextField(db_column="fileName", blank=True)
    nodesCount = models.IntegerField(db_column="nodesCount", default=0)
    edgesCount = models.IntegerField(db_column="edgesCount", default=0)
    rootNodeId = models.TextField(db_column="rootNodeId", blank=True)
    lineageFetched = models.BooleanField(db_column="lineageFetched", default=False)
    lineageSuccess = models.BooleanField(db_column="lineageSuccess", default=False)
    # From the item's resourceAttributes (or GET /apps/{id} where the item lacks them).
    ownerId = models.CharField(db_column="ownerId", max_length=64, blank=True)
    published = models.BooleanField(db_column="published", null=True)
    # The schema document's logical join to usage on (project_id, app_id), as a relation the
    # ORM can join: no column, no constraint. One LEFT JOIN instead of a subquery per column
    # also means one RLS check of qlik_app_usage per statement instead of three.
    usage = models.ForeignObject(
        "qlik.QlikAppUsage",
        on_delete=models.DO_NOTHING,
        from_fields=("project", "app_id"),
        to_fields=("project", "app_id"),
        null=True,
        related_name="+",
    )

    class Meta:
        db_table = "qlik_apps"
        verbose_name = "Qlik app"
        constraints = [
            models.UniqueConstraint(fields=("project", "app_id"), name="qlik_apps_project_app_uniq")
        ]
        indexes = [
            models.Index(fields=("project", "spaceId"), name="qlik_apps_project_spaceid"),
            # Keyset pages of the API's name order.
            models.Index(fields=("project", "appName", "app_id"), name="qlik_apps_project_name"),
            # Search: typos (pg_trgm) and words (full text).
            GinIndex(fields=["appName"], opclasses=["gin_trgm_ops"], name="qlik_apps_name_trgm"),
            GinIndex(SearchVector("appName", config="simple"), name="qlik_apps_name_fts"),
        ]

    def __str__(self) -> str:
        return self.appName or self.app_id


class QlikDataConnection(ProjectScopedModel):
    """A data connection, without its secret (qConnectionSecret is never stored)."""

    connection_id = models.CharField(max_length=64)
    qlik_id = models.CharField(db_column="id", max_length=64, blank=True)
    qID = models.CharField(db_column="qID", max_length=64, blank=True)
    qri = models.TextField(db_column="qri", blank=True)
    tags = models.JSONField(db_column="tags", default=list, blank=True)
    user = models.CharField(db_column="user", max_length=64, blank=True)
    links = models.JSONField(db_column="links", default=dict, blank=True)
    qName = models.TextField(db_column="qName", blank=True)
    qType = models.CharField(db_column="qType", max_length=100, blank=True)
    space = models.CharField(db_column="space", max_length=64, blank=True)
    qLogOn = models.CharField(db_column="qLogOn", max_length=32, blank=True)
    tenant = models.CharField(db_column="tenant", max_length=64, blank=True)
    created = models.DateTimeField(db_column="created", null=True, blank=True)
    updated = models.DateTimeField(db_column="updated", null=True, blank=True)
    version = models.CharField(db_column="version", max_length=64, blank=True)
    privileges = models.JSONField(db_column="privileges", default=list, blank=True)
    datasourceID = models.CharField(db_column="datasourceID", max_length=100, blank=True)
    qArchitecture = models.CharField(db_column="qArchitecture", max_length=32, blank=True)
    qCredentialsID = models.CharField(db_column="qCredentialsID", max_length=64, blank=True)
    qEngineObjectID = models.CharField(db_column="qEngineObjectID", max_length=64, blank=True)
    qConnectStatement = models.TextField(db_column="qConnectStatement", blank=True)
    qSeparateCredentials = models.BooleanField(db_column="qSeparateCredentials", null=True)

    class Meta:
        db_table = "qlik_data_connections"
        verbose_name = "Qlik data connection"
        constraints = [
            models.UniqueConstraint(
                fields=("project", "connection_id"), name="qlik_data_connections_project_conn_uniq"
            )
        ]
        indexes = [
            GinIndex(fields=["qName"], opclasses=["gin_trgm_ops"], name="qlik_conns_name_trgm"),
            GinIndex(SearchVector("qName", config="simple"), name="qlik_conns_name_fts"),
        ]

    def __str__(self) -> str:
        return self.qName or self.connection_id


class QlikAppUsage(ProjectScopedModel):
    """How much an app was reloaded, opened and viewed over a window of days."""

    class Classification(models.TextChoices):
        ACTIVE = "active", "Active"
        LOW_USE = "low_use", "Low use"
        UNUSED = "unused", "Unused"
        NEVER_RELOADED = "never_reloaded", "Never reloaded"
        NO_USAGE_DATA = "no_usage_data", "No usage data"

    app_id = models.CharField(max_length=64)
    appName = models.TextField(db_column="appName", blank=True)
    windowDays = models.PositiveIntegerField(db_column="windowDays", default=28)
    generatedAt = models.DateTimeField(db_column="generatedAt", null=True, blank=True)
    artifactFileName = models.TextField(db_column="_artifactFileName", blank=True)
    usageReloads = models.IntegerField(db_column="usageReloads", default=0)
    usageAppOpens = models.IntegerField(db_column="usageAppOpens", default=0)
    usageSheetViews = models.IntegerField(db_column="usageSheetViews", default=0)
    usageUniqueUsers = models.IntegerField(db_column="usageUniqueUsers", default=0)
    usageLastReloadAt = models.DateTimeField(db_column="usageLastReloadAt", null=True, blank=True)
    usageLastViewedAt = models.DateTimeField(db_column="usageLastViewedAt", null=True, blank=True)
    usageClassification = models.CharField(
        db_column="usageClassification", max_length=32, choices=Classification.choices, blank=True
    )
    connections = models.JSONField(db_column="connections", default=list, blank=True)

    class Meta:
        db_table = "qlik_app_usage"
        verbose_name = "Qlik app usage"
        verbose_name_plural = "Qlik app usage"
        constraints = [
            models.UniqueConstraint(fields=("project", "app_id"), name="qlik_app_usage_project_app_uniq")
        ]

    def __str__(self) -> str:
        return self.appName or self.app_id


class QlikAppScript(ProjectScopedModel):
    """The current load script of an app."""

    app_id = models.CharField(max_length=64)
    script = models.TextField(blank=True)

    class Meta:
        db_table = "qlik_app_scripts"
        verbose_name = "Qlik app script"
        constraints = [
            models.UniqueConstraint(fields=("project", "app_id"), name="qlik_app_scripts_project_app_uniq")
        ]

    def __str__(self) -> str:
        return self.app_id


class QlikDataset(ProjectScopedModel):
    """A data file (QVD, CSV, XLSX ...) or connection-based dataset listed by /items."""

    dataset_id = models.CharField(max_length=64, help_text="Item id of the dataset")
    name = models.TextField(db_column="name", blank=True)
    resourceSubType = models.CharField(db_column="resourceSubType", max_length=64, blank=True)
    resourceId = models.CharField(db_column="resourceId", max_length=64, blank=True)
    spaceId = models.CharField(db_column="spaceId", max_length=64, null=True, blank=True)
    ownerId = models.CharField(db_column="ownerId", max_length=64, blank=True)
    qri = models.TextField(db_column="qri", blank=True, help_text="resourceAttributes.qri")
    secureQri = models.TextField(db_column="secureQri", blank=True, help_text="How the lineage API names it")
    technicalName = models.TextField(db_column="technicalName", blank=True, help_text="The file name")
    dataStoreType = models.CharField(db_column="dataStoreType", max_length=64, blank=True)
    size = models.BigIntegerField(db_column="size", null=True, blank=True, help_text="Bytes")
    createdAt = models.DateTimeField(db_column="createdAt", null=True, blank=True)
    updatedAt = models.DateTimeField(db_column="updatedAt", null=True, blank=True)

    class Meta:
        db_table = "qlik_datasets"
        verbose_name = "Qlik dataset"
        constraints = [
            models.UniqueConstraint(
                fields=("project", "dataset_id"), name="qlik_datasets_project_dataset_uniq"
            )
        ]
        indexes = [
            models.Index(fields=("project", "secureQri"), name="qlik_datasets_project_secqri"),
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="qlik_datasets_name_trgm"),
            GinIndex(SearchVector("name", config="simple"), name="qlik_datasets_name_fts"),
        ]

    def __str__(self) -> str:
        return self.name or self.dataset_id


class QlikUser(ProjectScopedModel):
    """A user of the tenant, from its users listing: how owners are shown by name."""

    user_id = models.CharField(max_length=64)
    name = models.TextField(db_column="name", blank=True)
    email = models.TextField(db_column="email", blank=True)
    status = models.CharField(db_column="status", max_length=32, blank=True)

    class Meta:
        db_table = "qlik_users"
        verbose_name = "Qlik user"
        constraints = [
            models.UniqueConstraint(fields=("project", "user_id"), name="qlik_users_project_user_uniq")
        ]

    def __str__(self) -> str:
        return self.name or self.user_id


class QlikSyncRun(models.Model):
    """One sync or import of a project: who, when, how it ended and what it cost."""

    class Trigger(models.TextChoices):
        COMMAND = "command", "Command line"
        SCHEDULE = "schedule", "Schedule"
        ADMIN = "admin", "Admin (sync now)"
        API = "api", "API"
        IMPORT = "import", "Offline import"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    project = models.ForeignKey("customers.Project", on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        "customers.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    full = models.BooleanField(default=False, help_text="Refetched every app, not only changed ones")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Rows stored per table")
    api_calls = models.PositiveIntegerField(default=0)
    calls_by_endpoint = models.JSONField(default=dict, blank=True, help_text="API calls per endpoint")
    rate_limited = models.PositiveIntegerField(default=0, help_text="429 answers met")
    retries = models.PositiveIntegerField(default=0)
    bytes_received = models.BigIntegerField(default=0)
    apps_fetched = models.PositiveIntegerField(default=0, help_text="Apps whose details were fetched")
    apps_carried = models.PositiveIntegerField(default=0, help_text="Unchanged apps carried over")
    storage_seconds = models.FloatField(null=True, blank=True)
    rows_written = models.PositiveIntegerField(
        null=True, blank=True, help_text="Rows inserted, updated or deleted; unchanged rows are not written"
    )
    changes_seconds = models.FloatField(
        null=True, blank=True, help_text="Of the storage phase, the part spent finding what changed"
    )
    write_seconds = models.FloatField(
        null=True,
        blank=True,
        help_text="Of the storage phase, the part spent writing rows (staging by COPY, upsert, delete)",
    )
    lineage_digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of what the lineage graph was built from; an equal one next time keeps it",
    )
    statistics_refreshed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this sync had the planner's statistics refreshed (many apps changed)",
    )
    problems = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per-app problems met: counts per endpoint and status, and the apps affected (bounded)",
    )
    apps_with_problems = models.PositiveIntegerField(
        default=0, help_text="Apps stored with less than the tenant should have given"
    )
    notes = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "qlik_sync_runs"
        verbose_name = "sync run"
        ordering = ("-started_at", "-id")
        constraints = [
            # The database itself refuses a second running sync of one project.
            models.UniqueConstraint(
                fields=("project",),
                condition=models.Q(status="running"),
                name="qlik_sync_runs_one_running_per_project",
            )
        ]
        indexes = [models.Index(fields=("project", "-started_at"), name="qlik_sync_runs_project_started")]

    def __str__(self) -> str:
        return f"{self.project} sync #{self.pk} ({self.status})"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None

    @property
    def problem_lines(self) -> list[str]:
        """The problems in words: one line per endpoint and status, then what was skipped."""
        problems = self.problems or {}
        lines = [entry.get("summary", "") for entry in problems.get("counts") or []] + [
            entry.get("why", "") for entry in problems.get("skipped") or []
        ]
        return [line for line in lines if line]

    @property
    def calls_per_app(self) -> float | None:
        apps = self.counts.get("qlik_apps") if self.counts else None
        return round(self.api_calls / apps, 2) if apps else None


class QlikScriptVersion(ProjectScopedModel):
    """One distinct version of an app's load script, kept once (by hash), with when the
    syncs first and last saw it. `last_seen_at` is empty while it is the current one."""

    app_id = models.CharField(max_length=64)
    script_hash = models.CharField(max_length=64, help_text="SHA-256 of the script")
    script = models.TextField(blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the current version")

    class Meta:
        db_table = "qlik_script_versions"
        verbose_name = "Qlik script version"
        constraints = [
            models.UniqueConstraint(
                fields=("project", "app_id", "script_hash"), name="qlik_script_versions_project_app_hash_uniq"
            )
        ]
        indexes = [
            models.Index(fields=("project", "app_id", "-first_seen_at"), name="qlik_script_versions_app_seen")
        ]

    def __str__(self) -> str:
        return f"{self.app_id} @ {self.first_seen_at:%Y-%m-%d %H:%M}"


class QlikChange(ProjectScopedModel):
    """One thing that changed in the tenant between two successful syncs."""

    class Kind(models.TextChoices):
        INITIAL_SNAPSHOT = "initial_snapshot", "Initial snapshot"
        APP_ADDED = "app_added", "App added"
        APP_REMOVED = "app_removed", "App removed"
        APP_RENAMED = "app_renamed", "App renamed"
        APP_MOVED = "app_moved", "App moved to another space"
        APP_PUBLISHED = "app_published", "App published or unpublished"
        SCRIPT_CHANGED = "script_changed", "Script changed"
        CONNECTION_ADDED = "connection_added", "Data connection added"
        CONNECTION_REMOVED = "connection_removed", "Data connection removed"
        CONNECTION_CHANGED = "connection_changed", "Data connection changed"
        DATASET_ADDED = "dataset_added", "Dataset added"
        DATASET_REMOVED = "dataset_removed", "Dataset removed"
        EDGE_ADDED = "edge_added", "Lineage edge added"
        EDGE_REMOVED = "edge_removed", "Lineage edge removed"

    run = models.ForeignKey(
        "qlik.QlikSyncRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    detected_at = models.DateTimeField()
    kind = models.CharField(max_length=32, choices=Kind.choices)
    object_id = models.TextField(blank=True, help_text="App GUID, connection id, dataset id or edge id")
    object_name = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    script_from = models.ForeignKey(
        QlikScriptVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    script_to = models.ForeignKey(
        QlikScriptVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    class Meta:
        db_table = "qlik_changes"
        verbose_name = "change"
        indexes = [
            models.Index(fields=("project", "-detected_at", "-row_id"), name="qlik_changes_project_detected"),
            models.Index(fields=("project", "kind", "-detected_at"), name="qlik_changes_project_kind"),
            models.Index(fields=("project", "object_id"), name="qlik_changes_project_object"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.object_name or self.object_id}"
