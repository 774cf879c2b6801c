"""Tokens and the customers/projects endpoints: who sees what, by token and by session."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from atlas.rls import acting_as
from customers.models import ApiToken, Customer, Project, User
from customers.services import api_token_create, api_tokens_revoke
from tests.api import token_client
from tests.factories import tenant_create


@pytest.fixture
def world(db, system_user):
    return tenant_create("a", apps=3), tenant_create("b", apps=2)


def test_a_token_sees_exactly_its_users_customers_and_projects(world, system_user):
    a, b = world
    with acting_as(system_user):  # both customers exist
        assert Customer.objects.filter(pk__in=[a.customer.pk, b.customer.pk]).count() == 2
    client = token_client(a.user)
    customers = client.get("/api/v1/customers/").json()["results"]
    projects = client.get("/api/v1/projects/").json()["results"]
    assert [c["name"] for c in customers] == [a.customer.name]
    assert [(p["id"], p["customer_name"], p["last_sync_status"]) for p in projects] == [
        (a.project.pk, a.customer.name, "succeeded")
    ]
    assert client.get(f"/api/v1/customers/{b.customer.pk}/").status_code == 404
    assert client.get(f"/api/v1/projects/{b.project.pk}/").status_code == 404
    for path in ("apps", "spaces", "data-connections", "usage", "scripts", "sync-runs", "lineage/nodes"):
        assert client.get(f"/api/v1/projects/{b.project.pk}/{path}/").status_code == 404, path
        assert client.get(f"/api/v1/projects/{a.project.pk}/{path}/").status_code == 200, path


@pytest.mark.parametrize("path", ["/api/v1/customers/", "/api/v1/projects/", "/api/v1/projects/1/apps/"])
def test_anonymous_requests_get_401(db, path):
    response = Client().get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_a_session_sees_what_its_user_sees(world, client):
    _, b = world
    client.force_login(b.user)
    assert [p["id"] for p in client.get("/api/v1/projects/").json()["results"]] == [b.project.pk]


def test_tokens_are_stored_hashed_and_expired_or_revoked_ones_are_refused(world):
    a, _ = world
    token, key = api_token_create(user=a.user, name="t")
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    headers = {"Authorization": f"Token {key}"}
    assert Client(headers=headers).get("/api/v1/projects/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    api_tokens_revoke(tokens=ApiToken.objects.filter(pk=token.pk))
    assert Client(headers=headers).get("/api/v1/projects/").status_code == 401
    _, expired = api_token_create(user=a.user, name="old", expires_at=timezone.now() - timedelta(seconds=1))
    assert Client(headers={"Authorization": f"Token {expired}"}).get("/api/v1/projects/").status_code == 401
    assert Client(headers={"Authorization": "Token not-a-key"}).get("/api/v1/projects/").status_code == 401


def test_create_api_token_prints_a_key_that_works_once_shown(world, capsys):
    a, _ = world
    call_command("create_api_token", "--user", a.user.username, "--days", "30")
    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user=a.user)
    assert token.expires_at > timezone.now() + timedelta(days=29)
    response = Client(headers={"Authorization": f"Token {key}"}).get("/api/v1/projects/")
    assert [p["id"] for p in response.json()["results"]] == [a.project.pk]


def test_throttling_counts_per_token(world, settings):
    a, _ = world
    from django.core.cache import cache
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "3/min"}
    try:
        first, second = token_client(a.user), token_client(a.user)
        statuses = [first.get("/api/v1/customers/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert first.get("/api/v1/customers/").json()["code"] == "throttled"
        assert second.get("/api/v1/customers/").status_code == 200  # another token, its own budget
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
        cache.clear()


def test_project_sync_needs_change_rights_on_the_customer(world):
    a, _ = world
    client = token_client(a.user)
    assert client.post(f"/api/v1/projects/{a.project.pk}/sync/").status_code == 403
    admin = token_client(User.objects.create_superuser("root", password="x"))
    response = admin.post(f"/api/v1/projects/{a.project.pk}/sync/")
    assert response.status_code == 202
    assert isinstance(response.json()["job_id"], int)
    again = admin.post(f"/api/v1/projects/{a.project.pk}/sync/")
    assert (again.status_code, again.json()["job_id"]) == (202, None)  # one queued sync at a time


def test_no_secret_is_in_any_customer_answer(world):
    a, _ = world
    body = (
        token_client(User.objects.create_superuser("root", password="x"))
        .get("/api/v1/customers/?format=json")
        .content.decode()
    )
    assert a.api_key not in body
    assert "api_key" not in body


def test_the_project_list_is_keyset_paginated(world, system_user):
    with acting_as(system_user):
        customer = Customer.objects.get(pk=world[0].customer.pk)
        Project.objects.bulk_create([Project(customer=customer, name=f"extra {n}") for n in range(4)])
    client = token_client(User.objects.create_superuser("root", password="x"))
    first = client.get("/api/v1/projects/?page_size=3").json()
    second = client.get(first["next"]).json()
    ids = [p["id"] for p in first["results"] + second["results"]]
    assert len(ids) == 6 and ids == sorted(ids)
    assert "page=" not in first["next"] and "cursor=" in first["next"]


def test_the_api_root_lists_the_resources_in_json_without_a_token(db):
    body = Client().get("/api/v1/").json()
    assert body["projects"] == "http://testserver/api/v1/projects/"
    assert (
        body["project_resources"]["lineage_impact"]
        == "http://testserver/api/v1/projects/{project_id}/lineage/impact/"
    )
    assert body["docs"] == "http://testserver/api/docs/"


def test_a_path_the_api_lacks_is_a_json_404_and_a_missing_slash_a_redirect(world):
    a, _ = world
    client = token_client(a.user)
    for path in ("/api/v1/nope/", "/api/v1/projects/1/nope/", "/api/v1/customers/abc/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {
            "detail": "No such endpoint: GET /api/v1/ lists them.",
            "code": "not_found",
        }
    moved = client.get("/api/v1/projects?page_size=2")
    assert (moved.status_code, moved["Location"]) == (301, "/api/v1/projects/?page_size=2")


def test_customers_and_projects_one_may_not_see_are_404s_worded_alike(world):
    a, b = world
    client = token_client(a.user)
    assert client.get(f"/api/v1/customers/{b.customer.pk}/").json() == {
        "detail": "No such customer.",
        "code": "not_found",
    }
    assert client.get(f"/api/v1/projects/{b.project.pk}/").json()["detail"] == "No such project."
    assert client.get("/api/v1/projects/999999999999999999/").status_code == 404
    project = client.get(f"/api/v1/projects/{a.project.pk}/").json()
    assert project["customer_id"] == a.customer.pk and "customer" not in project


def test_401_and_403_answer_the_same_error_body(world):
    a, _ = world
    assert Client().get("/api/v1/projects/").json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    denied = token_client(a.user).post(f"/api/v1/projects/{a.project.pk}/sync/")
    assert denied.json() == {
        "detail": "You may see this project but not sync it.",
        "code": "permission_denied",
    }
