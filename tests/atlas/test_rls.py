"""The identity module: acting_as, the missing-identity guard and the request middleware."""

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory

from atlas.rls import RlsIdentityMiddleware, RlsIdentityMissing, acting_as, current_user_id
from customers.models import Customer, User
from tests.factories import tenant_create


def _db_identity() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('atlas.user_id', true)")
        return cursor.fetchone()[0] or ""


def test_acting_as_sets_the_transaction_local_setting_and_python_state(db):
    user = User.objects.create_user(username="u1")
    with acting_as(user):
        assert _db_identity() == str(user.pk)
        assert current_user_id() == user.pk
    assert _db_identity() == ""
    assert current_user_id() is None


def test_nested_identities_restore_the_outer_one(db):
    outer, inner = User.objects.create_user(username="outer"), User.objects.create_user(username="inner")
    with acting_as(outer):
        with acting_as(inner):
            assert _db_identity() == str(inner.pk)
        assert _db_identity() == str(outer.pk)
        assert current_user_id() == outer.pk


def test_an_error_inside_rolls_back_and_resets_the_identity(db):
    user = User.objects.create_user(username="u2")
    with pytest.raises(ZeroDivisionError), acting_as(user):
        User.objects.create_user(username="rolled-back")
        1 / 0  # noqa: B018
    assert _db_identity() == ""
    assert current_user_id() is None
    assert not User.objects.filter(username="rolled-back").exists()


def test_the_identity_ends_with_its_transaction_on_a_reused_connection(django_db_blocker):
    """Outside the test transaction: acting_as commits, and the setting is gone after it."""
    with django_db_blocker.unblock():
        system = User.objects.get(username="atlas-system")
        with acting_as(system):
            assert _db_identity() == str(system.pk)
            Customer.objects.count()
        assert not connection.in_atomic_block
        assert _db_identity() == ""


def test_touching_a_tenant_table_without_identity_raises_in_debug_and_tests(db):
    with pytest.raises(RlsIdentityMissing, match="acting_as"):
        list(Customer.objects.all())
    # Non-tenant tables are not guarded.
    assert User.objects.filter(username="atlas-system").exists()


def test_the_middleware_gives_each_request_its_own_identity_on_one_connection(db):
    """Two requests, two users, one connection: neither sees the other's customer."""
    a, b = tenant_create("a"), tenant_create("b")
    seen = []

    def view(request):
        seen.append((_db_identity(), sorted(Customer.objects.values_list("name", flat=True))))
        return HttpResponse("ok")

    middleware = RlsIdentityMiddleware(view)
    connection_id = id(connection.connection)
    for user in (a.user, b.user):
        request = RequestFactory().get("/")
        request.user = user
        assert middleware(request).status_code == 200
    assert id(connection.connection) == connection_id
    assert seen == [
        (str(a.user.pk), ["Customer a"]),
        (str(b.user.pk), ["Customer b"]),
    ]
    assert _db_identity() == ""


def test_the_middleware_runs_anonymous_requests_with_no_identity(db):
    tenant_create("a")

    def view(request):
        return JsonResponse({"identity": _db_identity(), "customers": Customer.objects.count()})

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    response = RlsIdentityMiddleware(view)(request)
    assert json.loads(response.content) == {"identity": "", "customers": 0}


def test_a_failing_view_rolls_its_writes_back(db):
    user = User.objects.create_user(username="writer")

    def view(request):
        User.objects.create_user(username="half-done")
        return HttpResponse(status=500)

    request = RequestFactory().get("/")
    request.user = user
    RlsIdentityMiddleware(view)(request)
    assert not User.objects.filter(username="half-done").exists()
