"""Row Level Security for qlik_datasets: a dataset is visible where its project is."""

import importlib

from django.db import migrations

# The same per-command policies as the other qlik tables.
_rls = importlib.import_module("qlik.migrations.0002_row_level_security")
enable_sql, disable_sql = _rls.enable_sql, _rls.disable_sql


_analyze = importlib.import_module("qlik.migrations.0010_statistics_refresh")

# The sync's statistics refresh covers the new table too.
ANALYZE_WITH_DATASETS = _analyze.SYNCED_TABLES_ANALYZE.replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
).replace("public.qlik_app_scripts,", "public.qlik_app_scripts, public.qlik_datasets,")
ANALYZE_WITHOUT_DATASETS = _analyze.SYNCED_TABLES_ANALYZE.replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
)


class Migration(migrations.Migration):
    dependencies = [("qlik", "0011_datasets_published_owner_problems")]

    operations = [
        migrations.RunSQL(sql=enable_sql("qlik_datasets"), reverse_sql=disable_sql("qlik_datasets")),
        migrations.RunSQL(sql=ANALYZE_WITH_DATASETS, reverse_sql=ANALYZE_WITHOUT_DATASETS),
    ]
