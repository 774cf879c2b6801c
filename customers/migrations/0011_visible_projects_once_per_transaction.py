"""The projects an identity may see, computed once per transaction instead of per statement.

Every statement on a project-scoped table evaluates `visible_project_ids()` once per table
it names (an InitPlan): three lookups — is the user a superuser, which customers are
granted, which projects belong to them — each time. Within one transaction the answer only
changes when the identity does or when projects, grants or a user's superuser flag do. So
the function keeps its answer in the transaction-local setting `atlas.visible_projects`,
bound to the identity it was computed for (`atlas.user_id` and `atlas.project_id`), and
computes it again whenever the identity differs. Statement-level triggers on `projects`,
`user_customer_access` and `users.is_superuser` clear it, so a project created or a grant
given in the transaction is seen by the next statement.

No new trust: the policies already trust the transaction-local `atlas.user_id` the
application sets, and a forged cache could only claim what a forged `atlas.user_id` could.
Still fail-closed: without an identity the function returns nothing and caches nothing.
"""

from django.db import migrations

CACHED_SQL = """
-- The visible projects of the identity in force, cached for the rest of the transaction.
CREATE OR REPLACE FUNCTION atlas_private.visible_project_ids() RETURNS SETOF bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    user_id text := NULLIF(current_setting('atlas.user_id', true), '');
    identity text;
    cached text := coalesce(current_setting('atlas.visible_projects', true), '');
    ids bigint[];
BEGIN
    IF user_id IS NULL THEN
        RETURN;  -- no identity: nothing visible, nothing cached
    END IF;
    identity := user_id || '/' || coalesce(current_setting('atlas.project_id', true), '');
    IF cached <> '' AND split_part(cached, '|', 1) = identity THEN
        RETURN QUERY SELECT unnest(string_to_array(split_part(cached, '|', 2), ',')::bigint[]);
        RETURN;
    END IF;
    ids := ARRAY(
        SELECT p.id FROM public.projects p
        WHERE ((SELECT atlas_private.is_superuser())
               OR p.customer_id = ANY (ARRAY(SELECT atlas_private.granted_customer_ids())))
          AND (atlas_private.scoped_project_id() IS NULL OR p.id = atlas_private.scoped_project_id())
    );
    PERFORM set_config('atlas.visible_projects', identity || '|' || array_to_string(ids, ','), true);
    RETURN QUERY SELECT unnest(ids);
END
$$;

-- What changes visibility within a transaction clears the cache.
CREATE OR REPLACE FUNCTION atlas_private.visible_projects_forget() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM set_config('atlas.visible_projects', '', true);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS visible_projects_forget ON public.projects;
CREATE TRIGGER visible_projects_forget AFTER INSERT OR UPDATE OR DELETE ON public.projects
    FOR EACH STATEMENT EXECUTE FUNCTION atlas_private.visible_projects_forget();
DROP TRIGGER IF EXISTS visible_projects_forget ON public.user_customer_access;
CREATE TRIGGER visible_projects_forget AFTER INSERT OR UPDATE OR DELETE ON public.user_customer_access
    FOR EACH STATEMENT EXECUTE FUNCTION atlas_private.visible_projects_forget();
DROP TRIGGER IF EXISTS visible_projects_forget ON public.users;
CREATE TRIGGER visible_projects_forget AFTER UPDATE OF is_superuser OR DELETE ON public.users
    FOR EACH STATEMENT EXECUTE FUNCTION atlas_private.visible_projects_forget();
"""

UNCACHED_SQL = """
-- Back to customers 0007's definition: computed per statement.
DROP TRIGGER IF EXISTS visible_projects_forget ON public.users;
DROP TRIGGER IF EXISTS visible_projects_forget ON public.user_customer_access;
DROP TRIGGER IF EXISTS visible_projects_forget ON public.projects;
DROP FUNCTION IF EXISTS atlas_private.visible_projects_forget();
CREATE OR REPLACE FUNCTION atlas_private.visible_project_ids() RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.id FROM public.projects p
    WHERE ((SELECT atlas_private.is_superuser())
           OR p.customer_id = ANY (ARRAY(SELECT atlas_private.granted_customer_ids())))
      AND (atlas_private.scoped_project_id() IS NULL OR p.id = atlas_private.scoped_project_id())
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_manage_access_row_level_security")]

    operations = [migrations.RunSQL(sql=CACHED_SQL, reverse_sql=UNCACHED_SQL)]
