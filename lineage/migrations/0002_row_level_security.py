"""Row Level Security for the lineage tables: a row is visible when its project is.

`atlas_private.visible_project_ids()` (customers 0002) is evaluated once per statement
(InitPlan); the unique key `(project_id, ...)` is the index it uses.
"""

from django.db import migrations

TABLES = ("lineage_nodes", "lineage_edges")
PROJECT_VISIBLE = "project_id = ANY (ARRAY(SELECT atlas_private.visible_project_ids()))"


def enable_sql(table: str) -> str:
    # ENABLE turns RLS on; FORCE applies it to the table owner as well. One policy per
    # command, so reads and each kind of write are checked explicitly.
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS {table}_select ON {table};
CREATE POLICY {table}_select ON {table} FOR SELECT USING ({PROJECT_VISIBLE});
DROP POLICY IF EXISTS {table}_insert ON {table};
CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({PROJECT_VISIBLE});
DROP POLICY IF EXISTS {table}_update ON {table};
CREATE POLICY {table}_update ON {table} FOR UPDATE
    USING ({PROJECT_VISIBLE}) WITH CHECK ({PROJECT_VISIBLE});
DROP POLICY IF EXISTS {table}_delete ON {table};
CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({PROJECT_VISIBLE});
"""


def disable_sql(table: str) -> str:
    return f"""
DROP POLICY IF EXISTS {table}_select ON {table};
DROP POLICY IF EXISTS {table}_insert ON {table};
DROP POLICY IF EXISTS {table}_update ON {table};
DROP POLICY IF EXISTS {table}_delete ON {table};
ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("lineage", "0001_initial"), ("customers", "0002_row_level_security")]

    operations = [
        migrations.RunSQL(sql=enable_sql(table), reverse_sql=disable_sql(table)) for table in TABLES
    ]
