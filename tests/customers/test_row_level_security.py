"""Tenant isolation, enforced by the policies the migrations install on every tenant table."""

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from atlas import db_roles
from atlas.rls import acting_as
from customers.models import Customer, Project, UserCustomerAccess
from tests.factories import PROJECT_MODELS, TENANT_MODELS, tenant_create
from tests.isolation import foreign_rows_visible

TENANT_TABLES = sorted(model._meta.db_table for model in TENANT_MODELS)


@pytest.fixture
def world(db):
    return tenant_create("a"), tenant_create("b")


def test_every_tenant_table_has_rls_enabled_and_forced(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
            "AND (relname IN ('customers', 'projects', 'user_customer_access') "
            "OR relname LIKE 'qlik\\_%%' OR relname LIKE 'lineage\\_%%')"
        )
        catalog = {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}
    assert sorted(catalog) == TENANT_TABLES
    assert {name for name, flags in catalog.items() if flags != (True, True)} == set()


def test_every_tenant_table_has_one_policy_per_command(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, cmd FROM pg_policies WHERE schemaname = 'public'")
        policies = cursor.fetchall()
    for table in TENANT_TABLES:
        commands = sorted(cmd for name, cmd in policies if name == table)
        assert commands == ["DELETE", "INSERT", "SELECT", "UPDATE"], table


def test_tests_run_as_the_restricted_runtime_role(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls, rolcreaterole, "
            "(SELECT count(*) FROM pg_class WHERE relowner = r.oid) "
            "FROM pg_roles r WHERE rolname = current_user"
        )
        user, superuser, bypassrls, createrole, owned = cursor.fetchone()
    assert user == settings.DATABASES["default"]["USER"]
    assert user != settings.ATLAS_OWNER_DATABASE["USER"]
    assert (superuser, bypassrls, createrole, owned) == (False, False, False, 0)


def test_the_other_tenants_rows_exist_and_a_superuser_sees_all_of_them(world, system_user):
    a, b = world
    with acting_as(system_user), connection.cursor() as cursor:
        assert foreign_rows_visible(cursor, b.rows) == dict.fromkeys(TENANT_TABLES, 1)
        assert foreign_rows_visible(cursor, a.rows) == dict.fromkeys(TENANT_TABLES, 1)


def test_a_user_sees_none_of_another_customers_rows_in_any_table(world, system_user):
    a, b = world
    with acting_as(system_user), connection.cursor() as cursor:
        assert set(foreign_rows_visible(cursor, b.rows).values()) == {1}  # they exist
    with acting_as(a.user), connection.cursor() as cursor:
        assert foreign_rows_visible(cursor, b.rows) == dict.fromkeys(TENANT_TABLES, 0)
        assert foreign_rows_visible(cursor, a.rows) == dict.fromkeys(TENANT_TABLES, 1)


def test_no_identity_sees_no_rows(world, system_user):
    a, _b = world
    with acting_as(system_user), connection.cursor() as cursor:
        assert set(foreign_rows_visible(cursor, a.rows).values()) == {1}
    with acting_as(None), connection.cursor() as cursor:
        assert foreign_rows_visible(cursor, a.rows) == dict.fromkeys(TENANT_TABLES, 0)
        for table in TENANT_TABLES:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            assert cursor.fetchone()[0] == 0, table


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m._meta.db_table)
def test_updates_and_deletes_of_another_customers_rows_affect_nothing(world, system_user, model):
    a, b = world
    table, pk = model._meta.db_table, model._meta.pk.column
    row = b.rows[model]
    with acting_as(a.user), connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{table}" SET "{pk}" = "{pk}" WHERE "{pk}" = %s', [row.pk])
        assert cursor.rowcount == 0
        cursor.execute(f'DELETE FROM "{table}" WHERE "{pk}" = %s', [row.pk])
        assert cursor.rowcount == 0
    with acting_as(system_user):
        assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", PROJECT_MODELS, ids=lambda m: m._meta.db_table)
def test_inserting_or_moving_rows_into_another_customers_project_is_rejected(world, model):
    a, b = world
    own = a.rows[model]
    with acting_as(a.user):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            clone = model.objects.get(pk=own.pk)
            clone.pk = None
            clone.project = b.project
            clone.save()
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            model.objects.filter(pk=own.pk).update(project=b.project)
        assert model.objects.get(pk=own.pk).project_id == a.project.pk


def test_customers_projects_and_grants_cannot_be_created_for_others_by_a_user(world):
    a, b = world
    with acting_as(a.user):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Customer.objects.create(name="Sneaky", tenant_url="https://x.example.com")
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Project.objects.create(customer=b.customer, name="Sneaky")
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            UserCustomerAccess.objects.create(user=a.user, customer=b.customer)
        # A user may add projects to a customer they were granted.
        assert Project.objects.create(customer=a.customer, name="Allowed").pk


def test_the_isolation_check_catches_a_broken_policy(db):
    """Loosen one policy inside a rolled-back owner transaction: the check must notice."""
    owner_conninfo = db_roles.owner_conninfo(dbname=connection.settings_dict["NAME"])
    with psycopg.connect(owner_conninfo) as raw:  # one transaction, rolled back on exit
        cursor = raw.cursor()
        cursor.execute(
            "INSERT INTO users (username, password, is_superuser, is_staff, is_active, first_name, "
            "last_name, email, date_joined) VALUES ('root-t', '', true, false, true, '', '', '', now()), "
            "('user-t', '', false, false, true, '', '', '', now()) RETURNING id"
        )
        root_id, user_id = (row[0] for row in cursor.fetchall())
        cursor.execute("SELECT set_config('atlas.user_id', %s, true)", [str(root_id)])
        cursor.execute(
            "INSERT INTO customers (name, tenant_url, oauth_client_id, created_at, updated_at) "
            "VALUES ('Mine', 'https://m', '', now(), now()), ('Theirs', 'https://t', '', now(), now()) "
            "RETURNING id"
        )
        mine, theirs = (row[0] for row in cursor.fetchall())
        cursor.execute(
            "INSERT INTO user_customer_access (user_id, customer_id, granted_at) VALUES (%s, %s, now())",
            [user_id, mine],
        )
        cursor.execute(
            "INSERT INTO projects (customer_id, name, description, created_at, updated_at) "
            "VALUES (%s, 'P', '', now(), now()) RETURNING id",
            [theirs],
        )
        cursor.execute(
            'INSERT INTO qlik_apps (project_id, app_id, "appName", status, "fileName", "nodesCount", '
            '"edgesCount", "rootNodeId", "lineageFetched", "lineageSuccess", "ownerId", data) '
            "VALUES (%s, 'hidden-app', 'Hidden', '', '', 0, 0, '', false, false, '', '{}') RETURNING row_id",
            [cursor.fetchone()[0]],
        )
        hidden_app = cursor.fetchone()[0]

        def theirs_visible_to_user() -> int:
            cursor.execute("SELECT set_config('atlas.user_id', %s, true)", [str(user_id)])
            cursor.execute("SELECT count(*) FROM qlik_apps WHERE row_id = %s", [hidden_app])
            return cursor.fetchone()[0]

        assert theirs_visible_to_user() == 0
        cursor.execute("ALTER POLICY qlik_apps_select ON qlik_apps USING (true)")
        assert theirs_visible_to_user() == 1
        raw.rollback()


def test_the_history_tables_have_rls_enabled_and_forced(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class "
            "WHERE relkind = 'r' AND relname LIKE 'customers\\_historical%%'"
        )
        catalog = dict(cursor.fetchall())
    assert sorted(catalog) == [
        "customers_historicalcustomer",
        "customers_historicalproject",
        "customers_historicalusercustomeraccess",
    ]
    assert all(catalog.values())


def _visible_projects(cursor) -> set[int]:
    cursor.execute("SELECT atlas_private.visible_project_ids()")
    return {row[0] for row in cursor.fetchall()}


def test_visibility_computed_once_per_transaction_follows_an_identity_switch(world, system_user):
    a, b = world
    with acting_as(system_user), connection.cursor() as cursor:
        assert {a.project.pk, b.project.pk} <= _visible_projects(cursor)  # both exist
        with acting_as(a.user):  # same transaction, another identity: computed again
            assert _visible_projects(cursor) == {a.project.pk}
            assert foreign_rows_visible(cursor, b.rows) == dict.fromkeys(TENANT_TABLES, 0)
            with acting_as(b.user):
                assert _visible_projects(cursor) == {b.project.pk}
            assert _visible_projects(cursor) == {a.project.pk}
        with acting_as(a.user, project=a.project):  # narrowed to a project: its own answer
            assert _visible_projects(cursor) == {a.project.pk}


def test_a_grant_or_project_made_in_the_transaction_is_seen_by_the_next_statement(world, system_user):
    from customers.services import access_grant, project_create

    a, b = world
    with acting_as(a.user), connection.cursor() as cursor:
        assert _visible_projects(cursor) == {a.project.pk}  # cached for this transaction
        with acting_as(system_user):
            access_grant(user=a.user, customer=b.customer)
            extra = project_create(customer=a.customer, name="Made meanwhile")
        assert _visible_projects(cursor) == {a.project.pk, b.project.pk, extra.pk}
        # Every row of the newly granted customer, but for b's own grant (a user sees their own).
        expected = {**dict.fromkeys(TENANT_TABLES, 1), "user_customer_access": 0}
        assert foreign_rows_visible(cursor, b.rows) == expected


def test_without_an_identity_a_planted_visibility_cache_shows_nothing(world, system_user):
    a, _b = world
    with acting_as(system_user), connection.cursor() as cursor:
        assert set(foreign_rows_visible(cursor, a.rows).values()) == {1}
    with acting_as(None), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('atlas.visible_projects', %s, true)", [f"/|{a.project.pk}"])
        assert _visible_projects(cursor) == set()
        assert foreign_rows_visible(cursor, a.rows) == dict.fromkeys(TENANT_TABLES, 0)
