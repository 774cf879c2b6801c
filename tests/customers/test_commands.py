"""Provisioning commands: create_customer, create_project, grant_access."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from atlas.rls import acting_as
from customers.models import Customer, Project, User, UserCustomerAccess

API_KEY = "eyJhbGciOi-plaintext-qlik-key-9f8e7d"


def _run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def _tables_containing(text: str) -> list[str]:
    """Every table of the schema whose rows, as text, contain `text` (seen as a superuser)."""
    with connection.cursor() as cursor:
        # Ordered: the catalog's own order differs between servers (PostgreSQL 15 and 18).
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        hits = []
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s', [f"%{text}%"])
            if cursor.fetchone()[0]:
                hits.append(table)
    return hits


def test_create_customer_reads_the_key_from_the_environment_and_stores_it_encrypted(
    db, monkeypatch, system_user
):
    monkeypatch.setenv("QLIK_API_KEY", API_KEY)
    customer_id = int(_run("create_customer", "--name", "Acme", "--tenant-url", "https://acme.example.com/"))
    with acting_as(system_user):
        customer = Customer.objects.get(pk=customer_id)
        assert (customer.api_key, customer.tenant_url) == (API_KEY, "https://acme.example.com")
        assert _tables_containing("Acme") == ["customers", "customers_historicalcustomer"]  # search works
        assert _tables_containing(API_KEY) == []


def test_create_customer_reads_the_key_from_stdin(db, monkeypatch, system_user):
    monkeypatch.delenv("QLIK_API_KEY", raising=False)
    customer_id = _run(
        "create_customer",
        "--name",
        "Globex",
        "--tenant-url",
        "https://globex.example.com",
        "--api-key-stdin",
        stdin=API_KEY + "\n",
        monkeypatch=monkeypatch,
    )
    with acting_as(system_user):
        assert Customer.objects.get(pk=int(customer_id)).api_key == API_KEY


def test_create_customer_has_no_argv_option_for_the_key(db):
    with pytest.raises(CommandError, match="unrecognized arguments"):
        call_command(
            "create_customer", "--name", "X", "--tenant-url", "https://x.example.com", "--api-key", "k"
        )


def test_create_customer_names_what_is_wrong(db):
    with pytest.raises(CommandError, match="tenant_url: Enter a valid URL"):
        call_command("create_customer", "--name", "X", "--tenant-url", "not a url")


def test_create_project_and_grant_access_by_name_or_id(db, system_user):
    User.objects.create_user(username="consultant")
    customer_id = _run("create_customer", "--name", "Acme", "--tenant-url", "https://acme.example.com")
    project_id = int(_run("create_project", "--customer", "Acme", "--name", "Cloud"))
    assert "Granted" in _run("grant_access", "--user", "consultant", "--customer", customer_id)
    with acting_as(system_user):
        assert Project.objects.get(pk=project_id).customer_id == int(customer_id)
        assert UserCustomerAccess.objects.filter(
            user__username="consultant", customer_id=customer_id
        ).exists()
    assert "Revoked" in _run("grant_access", "--user", "consultant", "--customer", "Acme", "--revoke")
    with acting_as(system_user):
        assert not UserCustomerAccess.objects.filter(user__username="consultant").exists()


def test_commands_obey_rls_for_the_actor_they_run_as(db):
    User.objects.create_user(username="nobody-granted")
    _run("create_customer", "--name", "Acme", "--tenant-url", "https://acme.example.com")
    with pytest.raises(CommandError, match="No customer 'Acme' visible"):
        call_command("create_project", "--customer", "Acme", "--name", "X", "--actor", "nobody-granted")
    with pytest.raises(CommandError, match="No user 'ghost' to act as"):
        call_command("create_project", "--customer", "Acme", "--name", "X", "--actor", "ghost")
