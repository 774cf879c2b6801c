"""An optional project scope on the RLS identity, for background work on one project.

`atlas.project_id` (set with the identity by atlas/rls.py, transaction-local) narrows
`visible_project_ids()` to that single project: a sync worker acting for project 7 can
neither read nor write another project's qlik_* and lineage_* rows, even where its user
may see them. Unset, the function is exactly what customers 0002 defined.
"""

from django.db import migrations

SCOPED_SQL = """
-- The project the identity is narrowed to, or NULL (no narrowing) when unset or ''.
CREATE OR REPLACE FUNCTION atlas_private.scoped_project_id() RETURNS bigint
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT NULLIF(current_setting('atlas.project_id', true), '')::bigint $$;

-- Projects the identity may see, narrowed to the scoped project when one is set.
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

UNSCOPED_SQL = """
-- Back to customers 0002's definition.
CREATE OR REPLACE FUNCTION atlas_private.visible_project_ids() RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.id FROM public.projects p
    WHERE (SELECT atlas_private.is_superuser())
       OR p.customer_id = ANY (ARRAY(SELECT atlas_private.granted_customer_ids()))
$$;
DROP FUNCTION IF EXISTS atlas_private.scoped_project_id();
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_credentials_changed_at_tracked")]

    operations = [migrations.RunSQL(sql=SCOPED_SQL, reverse_sql=UNSCOPED_SQL)]
