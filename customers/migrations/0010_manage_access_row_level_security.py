"""Staff holding `customers.manage_access` on a customer manage who may see it, in the database.

Until now only superusers saw or changed other users' rows of user_customer_access. From
here, an active staff member who holds the django-guardian object permission
`customers.manage_access` on a customer (directly or through a group) **and** sees that
customer (their own grant) sees every grant of it, and may insert or delete grants of it
for users who are not superusers, never their own. Updates stay with superusers. The
history of grants follows the same visibility, so a manager's grant is recorded.

Recursion: the policy of user_customer_access calls `managed_customer_ids()`, which must
read user_customer_access (the identity's own grant) and so meets that policy again. The
function marks the lookup with the transaction-local `atlas.access_lookup = 'own'` and
restores it right after; while the mark is set it returns nothing, which ends the
recursion and costs nothing, since the identity's own rows are visible through their own
branch anyway. (A function's own SET clause would be neater, but PostgreSQL lets only
superusers attach a custom setting to a function.) Setting `atlas.access_lookup` oneself
can only hide rows, never show more (fail closed).
"""

from django.db import migrations

FUNCTIONS_SQL = """
-- Customers whose access the identity manages. Reading the identity's own grant meets the
-- policy of user_customer_access, which calls this function again: the marker
-- atlas.access_lookup, set for the length of the lookup only, makes that inner call return
-- nothing at once.
CREATE OR REPLACE FUNCTION atlas_private.managed_customer_ids() RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    outer_marker text := current_setting('atlas.access_lookup', true);
    managed bigint[];
BEGIN
    IF outer_marker = 'own' THEN
        RETURN;
    END IF;
    PERFORM set_config('atlas.access_lookup', 'own', true);
    WITH me AS (
        SELECT u.id FROM public.users u
        WHERE u.id = atlas_private.current_user_id() AND u.is_active AND u.is_staff
    ),
    permission AS (
        SELECT p.id FROM public.auth_permission p
        JOIN public.django_content_type ct ON ct.id = p.content_type_id
        WHERE ct.app_label = 'customers' AND ct.model = 'customer' AND p.codename = 'manage_access'
    ),
    held AS (
        SELECT o.object_pk FROM public.guardian_userobjectpermission o
        WHERE o.user_id = (SELECT id FROM me) AND o.permission_id IN (SELECT id FROM permission)
        UNION
        SELECT o.object_pk FROM public.guardian_groupobjectpermission o
        JOIN public.users_groups ug ON ug.group_id = o.group_id
        WHERE ug.user_id = (SELECT id FROM me) AND o.permission_id IN (SELECT id FROM permission)
    )
    SELECT array_agg(a.customer_id) INTO managed FROM public.user_customer_access a
    WHERE a.user_id = (SELECT id FROM me)
      AND a.customer_id::text IN (SELECT object_pk FROM held);
    -- Back as it was (an error instead rolls the setting back with its transaction).
    PERFORM set_config('atlas.access_lookup', coalesce(outer_marker, ''), true);
    RETURN QUERY SELECT unnest(managed);
END
$$;

-- Whether a user is a superuser (unknown users count as one: fail closed); grants of
-- superusers are for superusers to change.
CREATE OR REPLACE FUNCTION atlas_private.user_is_superuser(target bigint) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce((SELECT u.is_superuser FROM public.users u WHERE u.id = target), true) $$;
"""

FUNCTIONS_REVERSE_SQL = """
DROP FUNCTION IF EXISTS atlas_private.user_is_superuser(bigint);
DROP FUNCTION IF EXISTS atlas_private.managed_customer_ids();
"""

SUPERUSER = "(SELECT atlas_private.is_superuser())"
OWN = "user_id = (SELECT atlas_private.current_user_id())"
MANAGED = "customer_id = ANY (ARRAY(SELECT atlas_private.managed_customer_ids()))"
# A manager changes grants of customers they manage, for others who are not superusers.
MANAGER_WRITES = (
    f"({SUPERUSER} OR ({MANAGED} AND user_id <> (SELECT atlas_private.current_user_id()) "
    "AND NOT atlas_private.user_is_superuser(user_id)))"
)
VISIBLE = f"({SUPERUSER} OR {OWN} OR {MANAGED})"

POLICIES_SQL = f"""
-- Grants: a manager sees every grant of the customers they manage.
DROP POLICY IF EXISTS user_customer_access_select ON user_customer_access;
CREATE POLICY user_customer_access_select ON user_customer_access FOR SELECT USING {VISIBLE};
-- Grants: a manager adds grants of those customers for non-superusers other than themselves.
DROP POLICY IF EXISTS user_customer_access_insert ON user_customer_access;
CREATE POLICY user_customer_access_insert ON user_customer_access FOR INSERT WITH CHECK {MANAGER_WRITES};
-- Grants: and revokes them on the same terms.
DROP POLICY IF EXISTS user_customer_access_delete ON user_customer_access;
CREATE POLICY user_customer_access_delete ON user_customer_access FOR DELETE USING {MANAGER_WRITES};
-- History of grants: visible and recorded where the grant is visible.
DROP POLICY IF EXISTS customers_historicalusercustomeraccess_select ON customers_historicalusercustomeraccess;
CREATE POLICY customers_historicalusercustomeraccess_select ON customers_historicalusercustomeraccess
    FOR SELECT USING {VISIBLE};
DROP POLICY IF EXISTS customers_historicalusercustomeraccess_insert ON customers_historicalusercustomeraccess;
CREATE POLICY customers_historicalusercustomeraccess_insert ON customers_historicalusercustomeraccess
    FOR INSERT WITH CHECK {VISIBLE};
"""

SUPERUSER_ONLY_WRITES = f"({SUPERUSER})"
OWN_OR_SUPERUSER = f"({SUPERUSER} OR {OWN})"

POLICIES_REVERSE_SQL = f"""
-- Back to customers 0002 and 0005: only superusers see or change anyone else's grants.
DROP POLICY IF EXISTS user_customer_access_select ON user_customer_access;
CREATE POLICY user_customer_access_select ON user_customer_access FOR SELECT USING {OWN_OR_SUPERUSER};
DROP POLICY IF EXISTS user_customer_access_insert ON user_customer_access;
CREATE POLICY user_customer_access_insert ON user_customer_access FOR INSERT WITH CHECK {SUPERUSER_ONLY_WRITES};
DROP POLICY IF EXISTS user_customer_access_delete ON user_customer_access;
CREATE POLICY user_customer_access_delete ON user_customer_access FOR DELETE USING {SUPERUSER_ONLY_WRITES};
DROP POLICY IF EXISTS customers_historicalusercustomeraccess_select ON customers_historicalusercustomeraccess;
CREATE POLICY customers_historicalusercustomeraccess_select ON customers_historicalusercustomeraccess
    FOR SELECT USING {OWN_OR_SUPERUSER};
DROP POLICY IF EXISTS customers_historicalusercustomeraccess_insert ON customers_historicalusercustomeraccess;
CREATE POLICY customers_historicalusercustomeraccess_insert ON customers_historicalusercustomeraccess
    FOR INSERT WITH CHECK {OWN_OR_SUPERUSER};
"""


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0009_manage_access_permission"),
        ("guardian", "0002_generic_permissions_index"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunSQL(sql=FUNCTIONS_SQL, reverse_sql=FUNCTIONS_REVERSE_SQL),
        migrations.RunSQL(sql=POLICIES_SQL, reverse_sql=POLICIES_REVERSE_SQL),
    ]
