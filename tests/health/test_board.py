"""The health board: every visible project, worst first, in a constant number of queries."""

import csv
import io
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from guardian.shortcuts import assign_perm
from procrastinate.contrib.django.models import ProcrastinateJob

from atlas.rls import acting_as
from customers.models import User
from customers.permissions import CHANGE_CUSTOMER
from customers.services import access_grant, customer_create, project_create
from health.bench import REJECTED, health_estate_create
from health.selectors import HealthState, project_health_list
from qlik.models import QlikSyncRun
from qlik.services import sync_run_finish, sync_run_start
from tests.api import token_client
from tests.factories import tenant_create

BOARD = "/admin/health/"


@pytest.fixture
def world(db, system_user):
    """Acme (granted to support) with a project whose last sync had its key rejected; Globex."""
    acme, globex = tenant_create("acme"), tenant_create("globex")
    support = User.objects.create_user(username="support", password="pw", is_staff=True)
    root = User.objects.create_superuser(username="root", password="pw")
    with acting_as(system_user):
        access_grant(user=support, customer=acme.customer)
        broken = project_create(customer=acme.customer, name="Broken")
        for _ in range(2):
            run = sync_run_start(project=broken, trigger=QlikSyncRun.Trigger.SCHEDULE, requested_by=None)
            sync_run_finish(run=run, error=REJECTED)
    return acme, globex, broken, support, root


def test_a_failing_project_comes_first_with_its_rejected_key_and_every_customer_for_a_superuser(
    world, client
):
    acme, globex, _broken, _support, root = world
    client.force_login(root)
    page = client.get(BOARD)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("Broken") < html.index(acme.project.name) and html.index("Broken") < html.index(
        globex.project.name
    )
    assert "Rejected key: 2 failed sync(s) in a row" in html
    assert "Failing: 1" in html and "Healthy: 2" in html
    assert acme.api_key not in html and globex.api_key not in html


def test_support_sees_only_its_customers_projects_and_a_consultant_is_turned_away(world, client, system_user):
    acme, globex, _broken, support, _root = world
    with acting_as(system_user):
        assert {row.customer_name for row in project_health_list()} == {"Customer acme", "Customer globex"}
    client.force_login(support)
    html = client.get(BOARD).content.decode()
    assert acme.project.name in html and "Broken" in html
    assert globex.project.name not in html and "Customer globex" not in html
    client.force_login(acme.user)  # granted, not staff
    response = client.get(BOARD)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_filters_by_state_and_customer_and_the_csv_has_every_row(world, client):
    _acme, globex, _broken, _support, root = world
    client.force_login(root)
    failing = client.get(BOARD, {"state": "failing"}).content.decode()
    assert "Broken" in failing and globex.project.name not in failing
    only_globex = client.get(BOARD, {"customer": globex.customer.pk}).content.decode()
    assert globex.project.name in only_globex and "Broken" not in only_globex
    download = client.get(BOARD, {"format": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert [row["state"] for row in rows] == ["failing", "healthy", "healthy"]
    assert rows[0]["rejected key"] == "True" and rows[0]["project"] == "Broken"


def test_stale_and_degraded_projects_sit_between_failing_and_healthy(world, system_user, settings):
    acme, globex, _broken, _support, _root = world
    with acting_as(system_user):
        QlikSyncRun.objects.filter(project=globex.project).update(apps_with_problems=2)
        project_create(customer=acme.customer, name="Never synced")
        rows = project_health_list()
    assert [(row.project_name, row.state) for row in rows] == [
        ("Broken", HealthState.FAILING),
        ("Never synced", HealthState.STALE),
        ("Project globex", HealthState.DEGRADED),
        ("Project acme", HealthState.HEALTHY),
    ]
    settings.ATLAS_HEALTH_STALE_DAYS = 0
    with acting_as(system_user):
        assert {row.state for row in project_health_list()} == {HealthState.FAILING, HealthState.STALE}


def test_reload_failures_their_rate_and_trend_and_counts_since_the_previous_sync(db, system_user):
    with acting_as(system_user):
        health_estate_create(tag="t", customers=1, projects_per_customer=1, apps=3)
        (row,) = project_health_list()
    # Apps fail on 0, 1 and 2 of the latest days: 3 failures of 60 reloads, all in the newer half.
    assert (row.reloads, row.reload_failures, row.reload_failure_rate) == (60, 3, 0.05)
    assert row.reload_failure_trend == "rising" and row.state == HealthState.DEGRADED
    assert (row.apps, row.apps_change, row.spaces, row.spaces_change) == (15, 2, 4, 1)
    assert row.credentials_age_days == 30


@pytest.mark.parametrize("path", [BOARD, "/api/v1/health/"])
def test_the_board_asks_the_same_number_of_queries_for_5_and_500_projects(db, system_user, client, path):
    root = User.objects.create_superuser(username="root", password="pw")
    client.force_login(root)
    counted = {}
    for size, (customers, per_customer) in {5: (1, 5), 500: (50, 10)}.items():
        with acting_as(system_user):
            made = health_estate_create(
                tag=f"s{size}", customers=customers, projects_per_customer=per_customer
            )
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200
        counted[size] = len(queries)
        with acting_as(system_user):
            assert sum(1 for _ in project_health_list(customer_id=made[0].pk)) == per_customer
    assert counted[5] == counted[500] > 0, counted
    assert elapsed < 3, f"{elapsed:.2f} s for ~505 projects"  # generous: a shared 2-core machine


def test_sync_now_queues_once_and_says_so_the_second_time(world, client, system_user):
    acme, _globex, _broken, support, _root = world
    client.force_login(support)
    post = {"project": acme.project.pk, "action": "sync"}
    refused = client.post(BOARD, post, follow=True).content.decode()
    assert "may see it but not sync it" in refused
    assign_perm(CHANGE_CUSTOMER, support, acme.customer)
    assert "sync queued" in client.post(BOARD, post, follow=True).content.decode()
    again = client.post(BOARD, post, follow=True).content.decode()
    assert "already waiting" in again
    assert ProcrastinateJob.objects.filter(queueing_lock=f"qlik-sync-{acme.project.pk}").count() == 1
    assert client.post(BOARD, {"project": 999999, "action": "sync"}).status_code == 404


def test_a_waiting_retry_is_named_with_its_time(world, client, system_user):
    acme, _globex, _broken, _support, root = world
    client.force_login(root)
    post = {"project": acme.project.pk, "action": "sync"}
    client.post(BOARD, post)
    _retry_later(acme.project.pk)
    html = client.post(BOARD, post, follow=True).content.decode()
    assert "a retry due at 2099-01-01 02:04 UTC" in html


def _retry_later(project_id: int) -> None:
    # procrastinate's Django models are read-only; the job table is its own (no RLS).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = '2099-01-01T02:04:00Z' WHERE queueing_lock = %s",
            [f"qlik-sync-{project_id}"],
        )


def test_test_connection_answers_fast_names_the_host_and_never_the_key(db, system_user, client):
    root = User.objects.create_superuser(username="root", password="pw")
    key = "unreachable-key-0123456789"
    with acting_as(system_user):
        customer = customer_create(name="Nowhere", tenant_url="http://127.0.0.1:9", api_key=key)
        project = project_create(customer=customer, name="Nowhere")
    client.force_login(root)
    started = time.perf_counter()
    html = client.post(BOARD, {"project": project.pk, "action": "test"}, follow=True).content.decode()
    assert time.perf_counter() - started < 5
    assert "127.0.0.1:9" in html and "ConnectError" in html
    assert key not in html


def test_the_api_gives_the_same_rows_to_staff_tokens_only(world):
    acme, _globex, _broken, support, root = world
    rows = token_client(root).get("/api/v1/health/").json()
    assert next(row["project_name"] for row in rows) == "Broken"
    assert len(rows) == 3 and rows[0]["rejected_key"] is True
    visible = token_client(support).get("/api/v1/health/", {"state": "healthy"}).json()
    assert [row["project_name"] for row in visible] == [acme.project.name]
    assert token_client(acme.user).get("/api/v1/health/").status_code == 403
    assert "text/csv" in token_client(root).get("/api/v1/health/?format=csv")["Content-Type"]


def test_the_admin_index_links_to_the_board(world, client):
    _acme, _globex, _broken, support, _root = world
    client.force_login(support)
    assert reverse("admin-health") in client.get(reverse("admin:index")).content.decode()
