"""Support on the health board in headless Chromium: log in, follow every link, act, log out."""

import pytest
from django.conf import settings
from django.db import connection
from guardian.shortcuts import assign_perm

from atlas.rls import acting_as
from customers.models import Customer, Project, User
from customers.permissions import CHANGE_CUSTOMER
from customers.services import access_grant, customer_create, project_create
from health.bench import REJECTED
from qlik.models import QlikSyncRun
from qlik.services import sync_run_finish, sync_run_start

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-pw"
ACME_KEY = "acme-board-key-0123456789"
GLOBEX_KEY = "globex-board-key-0123456789"


@pytest.fixture
def committed_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
        support = User.objects.create_user(username="support", password=PASSWORD, is_staff=True)
        with acting_as(system):
            acme = customer_create(name="Acme Analytics", tenant_url="http://127.0.0.1:9", api_key=ACME_KEY)
            globex = customer_create(
                name="Globex Retail", tenant_url="https://globex.example.com", api_key=GLOBEX_KEY
            )
            broken = project_create(customer=acme, name="Acme broken")
            healthy = project_create(customer=acme, name="Acme fine")
            project_create(customer=globex, name="Globex project")
            run = sync_run_start(project=broken, trigger=QlikSyncRun.Trigger.SCHEDULE, requested_by=None)
            sync_run_finish(run=run, error=REJECTED)
            run = sync_run_start(project=healthy, trigger=QlikSyncRun.Trigger.SCHEDULE, requested_by=None)
            sync_run_finish(run=run, counts={"qlik_apps": 3, "qlik_spaces": 1})
            access_grant(user=support, customer=acme)
            assign_perm(CHANGE_CUSTOMER, support, acme)
        yield acme, globex
        with acting_as(system):
            projects = Project.objects.filter(customer__in=[acme, globex])
            QlikSyncRun.objects.filter(project__in=projects).delete()
            projects.delete()
            Customer.objects.filter(pk__in=[acme.pk, globex.pk]).delete()
            support.delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_jobs WHERE queueing_lock LIKE 'qlik-sync-%%'")


def test_support_walks_the_board(committed_world, live_portal, page, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    seen = []
    page.goto(f"{live_portal}/admin/")
    page.fill("#id_username", "support")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.click("#health-module a >> nth=0")
    page.wait_for_selector("#health-table")
    seen.append(page.content())
    rows = page.locator("#health-table tr.health-row")
    assert rows.count() == 2
    assert rows.nth(0).get_attribute("data-state") == "failing"
    assert "Acme broken" in rows.nth(0).inner_text() and "Rejected key" in rows.nth(0).inner_text()
    assert "Globex" not in seen[-1]
    board = page.url

    links = page.locator("#health-table a, .health-counts a, #health-csv")
    hrefs = [links.nth(n).get_attribute("href") for n in range(links.count())]
    assert len(hrefs) >= 10
    for href in hrefs:
        if href.startswith("?") and "format=csv" in href:
            with page.expect_download() as download:
                page.evaluate("href => { window.location.href = href }", href)
            assert download.value.suggested_filename.endswith(".csv")
            continue
        response = page.goto(
            href
            if href.startswith("http")
            else (board.split("?")[0] + href if href.startswith("?") else live_portal + href)
        )
        assert response.status == 200, href
        seen.append(page.content())
        page.goto(board)

    page.locator("#health-table tr.health-row").nth(1).get_by_role("button", name="Sync now").click()
    page.wait_for_selector(".messagelist")
    assert "sync queued" in page.locator(".messagelist").inner_text()
    page.locator("#health-table tr.health-row").nth(0).get_by_role("button", name="Test connection").click()
    page.wait_for_selector(".messagelist")
    message = page.locator(".messagelist").inner_text()
    assert "127.0.0.1:9" in message
    seen.append(page.content())

    page.click("#logout-form button")
    page.wait_for_load_state()
    assert page.goto(f"{live_portal}/admin/health/").url.startswith(f"{live_portal}/admin/login/")
    for html in seen:
        assert ACME_KEY not in html and GLOBEX_KEY not in html
    connection.close()
