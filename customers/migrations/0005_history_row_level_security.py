"""Row Level Security for the change history of customers, projects and access grants.

History rows carry the same tenant data as the rows they record, so they follow the same
rules: a customer's and its projects' history is visible where the customer is; the
history of access grants to superusers and to the user concerned. History is append-only:
updates and deletes are for superusers (pruning), never for the application.
"""

from django.db import migrations

CUSTOMER_VISIBLE = (
    "((SELECT atlas_private.is_superuser()) "
    "OR {column} = ANY (ARRAY(SELECT atlas_private.granted_customer_ids())))"
)
SUPERUSER_ONLY = "(SELECT atlas_private.is_superuser())"
OWN_OR_SUPERUSER = (
    "((SELECT atlas_private.is_superuser()) OR user_id = (SELECT atlas_private.current_user_id()))"
)

POLICIES = {
    "customers_historicalcustomer": CUSTOMER_VISIBLE.format(column="id"),
    "customers_historicalproject": CUSTOMER_VISIBLE.format(column="customer_id"),
    "customers_historicalusercustomeraccess": OWN_OR_SUPERUSER,
}


def enable_sql(table: str, visible: str) -> str:
    # ENABLE and FORCE as on the recorded tables; one policy per command.
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS {table}_select ON {table};
CREATE POLICY {table}_select ON {table} FOR SELECT USING ({visible});
DROP POLICY IF EXISTS {table}_insert ON {table};
CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({visible});
DROP POLICY IF EXISTS {table}_update ON {table};
CREATE POLICY {table}_update ON {table} FOR UPDATE USING ({SUPERUSER_ONLY}) WITH CHECK ({SUPERUSER_ONLY});
DROP POLICY IF EXISTS {table}_delete ON {table};
CREATE POLICY {table}_delete ON {table} FOR DELETE USING ({SUPERUSER_ONLY});
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
    dependencies = [("customers", "0004_history")]

    operations = [
        migrations.RunSQL(sql=enable_sql(table, visible), reverse_sql=disable_sql(table))
        for table, visible in POLICIES.items()
    ]
