"""Row Level Security for customers, projects and user_customer_access.

The identity is the transaction-local setting `atlas.user_id` (a users.id), set only by
atlas/rls.py. Superusers see every customer; everyone else sees the customers granted to
them in user_customer_access, and those customers' projects. No identity: no rows.

The visibility functions live in the schema `atlas_private` (on no search_path), are
STABLE SECURITY DEFINER with a pinned search_path, and are called as
`x = ANY (ARRAY(SELECT fn()))` so the planner evaluates them once per statement (InitPlan).
FORCE applies the policies to the owner too, so the functions run under them: each reads
only tables whose own policy does not call it back (no recursion).
"""

from django.db import migrations

FUNCTIONS_SQL = """
-- A schema for the policy helpers; clients never put it on their search_path.
CREATE SCHEMA IF NOT EXISTS atlas_private;
GRANT USAGE ON SCHEMA atlas_private TO PUBLIC;

-- The identity in force: NULL (fail closed) when unset or reset to '' after SET LOCAL.
CREATE OR REPLACE FUNCTION atlas_private.current_user_id() RETURNS bigint
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT NULLIF(current_setting('atlas.user_id', true), '')::bigint $$;

-- Whether the identity is a Django superuser (users has no RLS of its own).
CREATE OR REPLACE FUNCTION atlas_private.is_superuser() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        (SELECT u.is_superuser FROM public.users u WHERE u.id = atlas_private.current_user_id()),
        false)
$$;

-- Customers granted to the identity. Reads user_customer_access, whose policy lets a user
-- see their own grants without calling back into this function.
CREATE OR REPLACE FUNCTION atlas_private.granted_customer_ids() RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.customer_id FROM public.user_customer_access a
    WHERE a.user_id = atlas_private.current_user_id()
$$;

-- Projects the identity may see: every project for a superuser, else those of granted
-- customers. The project-scoped tables (qlik_*, lineage_*) use this one.
CREATE OR REPLACE FUNCTION atlas_private.visible_project_ids() RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.id FROM public.projects p
    WHERE (SELECT atlas_private.is_superuser())
       OR p.customer_id = ANY (ARRAY(SELECT atlas_private.granted_customer_ids()))
$$;
"""

FUNCTIONS_REVERSE_SQL = """
DROP FUNCTION IF EXISTS atlas_private.visible_project_ids();
DROP FUNCTION IF EXISTS atlas_private.granted_customer_ids();
DROP FUNCTION IF EXISTS atlas_private.is_superuser();
DROP FUNCTION IF EXISTS atlas_private.current_user_id();
DROP SCHEMA IF EXISTS atlas_private;
"""

CUSTOMER_VISIBLE = (
    "((SELECT atlas_private.is_superuser()) "
    "OR {column} = ANY (ARRAY(SELECT atlas_private.granted_customer_ids())))"
)
SUPERUSER_ONLY = "(SELECT atlas_private.is_superuser())"

# table -> {command: (USING, WITH CHECK)}; None where the command takes no such clause.
POLICIES = {
    "customers": {
        "SELECT": (CUSTOMER_VISIBLE.format(column="id"), None),
        # Onboarding and removing customers is for superusers; support edits what it sees.
        "INSERT": (None, SUPERUSER_ONLY),
        "UPDATE": (CUSTOMER_VISIBLE.format(column="id"), CUSTOMER_VISIBLE.format(column="id")),
        "DELETE": (SUPERUSER_ONLY, None),
    },
    "projects": {
        "SELECT": (CUSTOMER_VISIBLE.format(column="customer_id"), None),
        "INSERT": (None, CUSTOMER_VISIBLE.format(column="customer_id")),
        "UPDATE": (
            CUSTOMER_VISIBLE.format(column="customer_id"),
            CUSTOMER_VISIBLE.format(column="customer_id"),
        ),
        "DELETE": (CUSTOMER_VISIBLE.format(column="customer_id"), None),
    },
    "user_customer_access": {
        # A user sees their own grants (granted_customer_ids depends on exactly this);
        # only superusers see or change anyone else's.
        "SELECT": (
            "((SELECT atlas_private.is_superuser()) OR user_id = (SELECT atlas_private.current_user_id()))",
            None,
        ),
        "INSERT": (None, SUPERUSER_ONLY),
        "UPDATE": (SUPERUSER_ONLY, SUPERUSER_ONLY),
        "DELETE": (SUPERUSER_ONLY, None),
    },
}


def enable_sql(table: str, policies: dict) -> str:
    # ENABLE turns RLS on; FORCE applies it to the table owner as well.
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;",
    ]
    for command, (using, check) in policies.items():
        name = f"{table}_{command.lower()}"
        clauses = (f" USING ({using})" if using else "") + (f" WITH CHECK ({check})" if check else "")
        # One policy per command, each with explicit USING / WITH CHECK.
        statements.append(f"DROP POLICY IF EXISTS {name} ON {table};")
        statements.append(f"CREATE POLICY {name} ON {table} FOR {command}{clauses};")
    return "\n".join(statements)


def disable_sql(table: str, policies: dict) -> str:
    statements = [f"DROP POLICY IF EXISTS {table}_{command.lower()} ON {table};" for command in policies]
    statements.append(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;")
    statements.append(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;")
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        migrations.RunSQL(sql=FUNCTIONS_SQL, reverse_sql=FUNCTIONS_REVERSE_SQL),
        *(
            migrations.RunSQL(sql=enable_sql(table, policies), reverse_sql=disable_sql(table, policies))
            for table, policies in POLICIES.items()
        ),
    ]
