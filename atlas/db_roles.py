"""The two database roles: the owner (schema, migrations) and the runtime role (DML only).

Role and database DDL cannot live in migrations (they run inside the database, as the
owner), so this module holds the only raw SQL outside them; every statement is idempotent,
and `manage.py db_setup` runs it on every `make run` / `make test`.

- The owner role owns the database and schema and runs migrations. Because every tenant
  table has FORCE ROW LEVEL SECURITY, even it sees tenant rows only through an identity.
- The runtime role (web, API, workers) is NOSUPERUSER NOBYPASSRLS, owns nothing and holds
  SELECT/INSERT/UPDATE/DELETE on the tables, including tables created later (default
  privileges), read-only access to `django_migrations`, and EXECUTE on the few SECURITY
  DEFINER functions listed in `RUNTIME_FUNCTIONS`.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import sql

from atlas import rls

_CONNECTION_KEYS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")

# SECURITY DEFINER functions the runtime role may call; their migrations revoke PUBLIC.
RUNTIME_FUNCTIONS = (
    "atlas_private.qlik_request_slot(text, integer)",  # qlik migration 0013
    "atlas_private.qlik_request_hold(text, double precision)",
)


def _owner_settings() -> dict:
    if not settings.ATLAS_OWNER_DATABASE:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL is not set: migrations and grants run as the role that owns "
            "the schema, e.g. postgres://atlas_owner:PASSWORD@db:5432/atlas."
        )
    return settings.ATLAS_OWNER_DATABASE


def _conninfo(settings_dict: dict, dbname: str | None = None) -> str:
    host = settings_dict.get("HOST") or ""
    if settings_dict.get("ENGINE") == "atlas.embedded_pg":
        from atlas.embedded_pg.server import socket_dir

        host = socket_dir()
    params = {
        "dbname": dbname or settings_dict.get("NAME") or "postgres",
        "user": settings_dict.get("USER") or "",
        "password": settings_dict.get("PASSWORD") or "",
        "host": host,
        "port": str(settings_dict.get("PORT") or ""),
        **(settings_dict.get("OPTIONS") or {}),
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v != ""})


def owner_conninfo(*, dbname: str | None = None) -> str:
    """A libpq connection string for the owner role (tests use it to alter policies)."""
    return _conninfo(_owner_settings(), dbname)


@contextmanager
def connected_as_owner(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Reconnect Django's connection `using` as the owner role for the block (re-entrant)."""
    connection = connections[using]
    owner = _owner_settings()
    if connection.settings_dict.get("USER") == owner.get("USER"):
        yield
        return
    saved = {key: connection.settings_dict.get(key) for key in _CONNECTION_KEYS}
    connection.close()
    connection.settings_dict.update({key: owner.get(key) for key in _CONNECTION_KEYS})
    connection.settings_dict["OPTIONS"] = owner.get("OPTIONS") or {}
    try:
        with rls.guard_suspended():
            yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def roles_bootstrap() -> list[str]:
    """Create (or correct) both roles and the database, where an admin URL allows it."""
    admin = settings.ATLAS_ADMIN_DATABASE
    if not admin:
        return ["No DATABASE_ADMIN_URL: the owner and runtime roles are expected to exist."]
    owner = _owner_settings()
    runtime = settings.DATABASES[DEFAULT_DB_ALIAS]
    database = runtime["NAME"]
    done = []
    with psycopg.connect(_conninfo(admin), autocommit=True) as conn:
        for role, attributes in (
            (owner, "LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB NOCREATEROLE"),
            (runtime, "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"),
        ):
            name = sql.Identifier(role["USER"])
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role["USER"]]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE ROLE {}").format(name))
                done.append(f"created role {role['USER']}")
            # Re-asserted every time, so a role edited by hand is put back in shape.
            conn.execute(sql.SQL("ALTER ROLE {} " + attributes).format(name))
            if role.get("PASSWORD"):
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(name, sql.Literal(role["PASSWORD"])))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(owner["USER"])
                )
            )
            done.append(f"created database {database}")
    return done


def runtime_privileges_grant(*, dbname: str | None = None) -> None:
    """As the owner, grant the runtime role what it needs in `dbname` (default: the app's)."""
    owner = _owner_settings()
    runtime_role = sql.Identifier(settings.DATABASES[DEFAULT_DB_ALIAS]["USER"])
    owner_role = sql.Identifier(owner["USER"])
    dbname = dbname or settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"]
    statements = [
        "GRANT CONNECT ON DATABASE {db} TO {runtime}",
        "GRANT USAGE ON SCHEMA public TO {runtime}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {runtime}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {runtime}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {runtime}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        "GRANT USAGE, SELECT ON SEQUENCES TO {runtime}",
    ]
    with psycopg.connect(_conninfo(owner, dbname), autocommit=True) as conn:
        for statement in statements:
            conn.execute(
                sql.SQL(statement).format(db=sql.Identifier(dbname), runtime=runtime_role, owner=owner_role)
            )
        if conn.execute("SELECT to_regclass('public.django_migrations')").fetchone()[0]:
            # The runtime role reads the migration history (makemigrations --check) only.
            conn.execute(
                sql.SQL("REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {}").format(runtime_role)
            )
        for function in RUNTIME_FUNCTIONS:
            # Granted once the migration that creates the function has run (db_setup grants
            # again after migrating).
            if conn.execute("SELECT to_regprocedure(%s)", [function]).fetchone()[0]:
                conn.execute(
                    sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(sql.SQL(function), runtime_role)
                )
