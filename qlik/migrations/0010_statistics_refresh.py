"""Let a sync refresh the planner's statistics of the synced tables.

ANALYZE needs the table's owner, and the runtime role owns nothing; a SECURITY DEFINER
function owned by the owner role runs it. Without it, the minute after a project's first
large sync (until autovacuum's next round) plans joins on row counts of nearly empty tables:
the dashboard's clean-up query took 4-6 s instead of milliseconds on 10,000 fresh apps.
ANALYZE reads no tenant's rows into anything a user can see: pg_stats hides tables whose
row security is active for the reader.
"""

from django.db import migrations, models

SYNCED_TABLES_ANALYZE = """
CREATE FUNCTION atlas_private.synced_tables_analyze() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    ANALYZE public.qlik_spaces, public.qlik_apps, public.qlik_data_connections,
            public.qlik_app_usage, public.qlik_app_scripts,
            public.lineage_nodes, public.lineage_edges;
    RETURN clock_timestamp();
END
$$;
COMMENT ON FUNCTION atlas_private.synced_tables_analyze() IS
    'Fresh planner statistics for the synced tables, for the runtime role; returns when.';
"""


class Migration(migrations.Migration):
    dependencies = [
        ("qlik", "0009_app_usage_join"),
        ("lineage", "0004_project_fk_without_own_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="qliksyncrun",
            name="statistics_refreshed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When this sync had the planner's statistics refreshed (many apps changed)",
                null=True,
            ),
        ),
        migrations.RunSQL(
            SYNCED_TABLES_ANALYZE, reverse_sql="DROP FUNCTION atlas_private.synced_tables_analyze();"
        ),
    ]
