"""The health board's rows for scripts: the same fields the board and its CSV show."""

from rest_framework import serializers

from health.selectors import HealthState


class ProjectHealthSerializer(serializers.Serializer):
    project_id = serializers.IntegerField()
    project_name = serializers.CharField()
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    tenant_host = serializers.CharField()
    state = serializers.ChoiceField(choices=HealthState.choices)
    reasons = serializers.ListField(child=serializers.CharField())
    last_sync_status = serializers.CharField(allow_null=True)
    last_sync_at = serializers.DateTimeField(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    consecutive_failures = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)
    rejected_key = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    apps_with_problems = serializers.IntegerField()
    reloads = serializers.IntegerField(help_text="Reloads in the usage window")
    reload_failures = serializers.IntegerField(help_text="Failed reloads in the usage window")
    reload_failure_rate = serializers.FloatField(allow_null=True, help_text="Failed ÷ reloads in the window")
    reload_failure_trend = serializers.ChoiceField(
        choices=["rising", "falling", "steady"], help_text="Newer half of the window against the older half"
    )
    apps = serializers.IntegerField(allow_null=True)
    apps_change = serializers.IntegerField(allow_null=True, help_text="Since the previous successful sync")
    spaces = serializers.IntegerField(allow_null=True)
    spaces_change = serializers.IntegerField(allow_null=True, help_text="Since the previous successful sync")
    credentials_changed_at = serializers.DateTimeField(allow_null=True)
    credentials_age_days = serializers.IntegerField(allow_null=True)
    running = serializers.BooleanField()
    queued = serializers.BooleanField()
    queued_for = serializers.DateTimeField(allow_null=True, help_text="When a waiting retry is due")
