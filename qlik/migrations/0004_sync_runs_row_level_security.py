"""Row Level Security for qlik_sync_runs: a run is visible where its project is."""

import importlib

from django.db import migrations

# The same per-command policies as the other qlik tables.
_rls = importlib.import_module("qlik.migrations.0002_row_level_security")
enable_sql, disable_sql = _rls.enable_sql, _rls.disable_sql


class Migration(migrations.Migration):
    dependencies = [("qlik", "0003_sync_runs"), ("customers", "0007_project_scope")]

    operations = [
        migrations.RunSQL(sql=enable_sql("qlik_sync_runs"), reverse_sql=disable_sql("qlik_sync_runs"))
    ]
