"""A consultant in headless Chromium: the Acme dashboard's charts, typo search, the lineage
graph drawn node for node, and a 404 for Globex."""

import json

import pytest
from django.conf import settings
from django.db import connection

from atlas.rls import acting_as
from customers.models import Customer, Project, User
from customers.services import access_grant, customer_create, project_create
from lineage.selectors import lineage_both_ways
from qlik.fake_tenant import FakeEstate, FakeQlikTenant
from qlik.services import qlik_project_sync
from tests.conftest import FAKE_KEY

pytestmark = pytest.mark.browser
PASSWORD = "browser-consultant-pw"


@pytest.fixture
def acme_and_globex(django_db_setup, django_db_blocker, fast_client_settings):
    """Acme synced from a fake tenant and granted to `consultant`; Globex not granted. Committed."""
    with django_db_blocker.unblock():
        system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
        with acting_as(system):  # a run killed before its teardown may have left one
            User.objects.filter(username="consultant").delete()
        consultant = User.objects.create_user(username="consultant", password=PASSWORD)
        with FakeQlikTenant(FakeEstate(seed=11, apps=24), api_key=FAKE_KEY) as tenant:
            with acting_as(system):
                acme = customer_create(name="Acme Analytics", tenant_url=tenant.url, api_key=FAKE_KEY)
                globex = customer_create(name="Globex Retail", tenant_url="https://globex.example.com")
                acme_project = project_create(customer=acme, name="Acme Cloud")
                globex_project = project_create(customer=globex, name="Globex Stores")
                access_grant(user=consultant, customer=acme)
            assert qlik_project_sync(project=acme_project, actor=system).status == "succeeded"
        yield acme_project, globex_project, tenant.estate
        with acting_as(system):
            Project.objects.filter(pk__in=[acme_project.pk, globex_project.pk]).delete()
            Customer.objects.filter(pk__in=[acme.pk, globex.pk]).delete()
            consultant.delete()


def test_consultant_sees_acme_charts_finds_a_misspelled_app_and_gets_404_for_globex(
    acme_and_globex, live_portal, page, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    _, globex_project, _ = acme_and_globex
    page.goto(f"{live_portal}/projects/")
    page.fill("input[name=username]", "consultant")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table.grid")
    assert "Globex" not in page.content()
    page.click("text=Acme Cloud")
    page.wait_for_selector("[data-chart=usage]")
    window = settings.QLIK_USAGE_WINDOW_DAYS
    assert page.locator("[data-chart=reload_failures] rect.bar").count() == window  # one column a day
    for chart in ("usage", "top_viewed", "connection_types"):
        bars = page.locator(f"[data-chart={chart}] rect.bar")
        assert bars.count() > 0, chart
        boxes = [bars.nth(i).bounding_box() for i in range(bars.count())]
        assert max(box["width"] * box["height"] for box in boxes if box) > 100, (
            chart
        )  # drawn, not just markup
    page.fill("input[name=q]", "slaes dashbord")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("#result-apps")
    assert page.locator("#result-apps li").first.inner_text().startswith("Sales Dashboard 2")
    response = page.goto(f"{live_portal}/projects/{globex_project.pk}/")
    assert response.status == 404
    assert "Globex" not in page.content()
    connection.close()


def test_the_lineage_page_draws_every_node_and_highlights_upstream_on_click(
    acme_and_globex, live_portal, page, django_db_blocker, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    acme_project, _, estate = acme_and_globex
    node = f"app:{estate.app_guid(5)}"  # a Model: upstream Extract, tables, connections; downstream apps
    with django_db_blocker.unblock(), acting_as(User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)):
        expected = lineage_both_ways(project=acme_project, node_id=node, depth=5)
    page.goto(f"{live_portal}/accounts/login/")
    page.fill("input[name=username]", "consultant")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_portal}/projects/{acme_project.pk}/lineage/?node={node}")
    page.wait_for_selector("#lineage-graph[data-drawn]")
    embedded = json.loads(page.locator("#graph-data").inner_text())
    assert page.locator("#lineage-graph g.node").count() == len(expected["nodes"]) == len(embedded["nodes"])
    assert page.locator("#lineage-graph path.edge").count() == len(expected["edges"])
    upstream = {n["id"] for n in expected["nodes"] if n["depth"] < 0}
    assert page.locator("#lineage-graph g.node.up").count() == len(upstream) > 0  # the start is selected
    assert "depth 0" in page.locator("#node-details").inner_text()
    box = page.locator("#lineage-graph").bounding_box()
    before = page.locator("#lineage-graph").get_attribute("viewBox")
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.wheel(0, 300)
    assert page.locator("#lineage-graph").get_attribute("viewBox") != before  # zoomed
    connection.close()
