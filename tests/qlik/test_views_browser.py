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


def test_consultant_walks_dashboard_browser_app_script_lineage_impact_and_logs_out(
    acme_and_globex, live_portal, page, monkeypatch
):
    """Dashboard → a usage bar → the filtered browser → an app → a script line → its node →
    lineage → impact → sync history → log out and in again; no console error on the way."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    acme_project, globex_project, estate = acme_and_globex
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_portal}/accounts/login/")
    page.fill("input[name=username]", "consultant")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Acme Cloud")
    page.wait_for_selector("[data-chart=usage]")
    assert "Data as of the sync of" in page.inner_text("#freshness")
    page.click("[data-chart=usage] a.hbar >> nth=0")  # "Active": the browser, filtered
    page.wait_for_selector("#apps")
    assert "usage=active" in page.url
    listed = page.locator("#apps tbody tr[data-app]")
    assert listed.count() > 0
    assert all("Active" in listed.nth(i).inner_text() for i in range(listed.count()))
    # back to all apps, sorted by last reload, newest first, by keyboard
    page.goto(f"{live_portal}/projects/{acme_project.pk}/apps/?sort=-last_reload")
    model = estate.app_item(5)["name"]
    page.fill("#app-filters input[name=q]", model)
    page.press("#app-filters input[name=q]", "Enter")
    page.wait_for_selector(f"#apps >> text={model}")
    page.click(f"#apps a:text-is('{model}')")
    page.wait_for_selector("#app-name")
    assert page.inner_text("#app-name") == model
    assert page.locator(".script .line").count() > 3
    assert page.locator(".script .line .k").count() > 0  # highlighted
    page.wait_for_selector("#lineage-graph[data-drawn]")  # the small graph
    used = page.locator(".script .line.used").first
    line_id = used.get_attribute("id")
    used.locator(".ln").click()
    assert page.url.endswith(f"#{line_id}")
    used.locator(".uses a").first.click()
    page.wait_for_selector("h1")
    assert "/nodes/?id=" in page.url or "/apps/" in page.url
    page.goto(f"{live_portal}/projects/{acme_project.pk}/lineage/?node=app:{estate.app_guid(5)}")
    page.wait_for_selector("#lineage-graph[data-drawn]")
    assert model in page.inner_text("#graph-title")
    assert page.locator("#lineage-graph marker#arrow").count() == 1
    page.click("#node-details a.node-impact")
    page.wait_for_selector("#impact-title")
    assert model in page.inner_text("#impact-title")
    page.click("a:text-is('Syncs')")
    page.wait_for_selector("#sync-runs")
    assert "Succeeded" in page.inner_text("#sync-runs")
    for path in ("apps/", "spaces/", "connections/", "syncs/", "impact/", f"apps/{estate.app_guid(5)}/"):
        response = page.goto(f"{live_portal}/projects/{globex_project.pk}/{path}")
        assert response.status == 404, path
    page.goto(f"{live_portal}/projects/{acme_project.pk}/")
    page.click("text=Log out")
    page.wait_for_selector("input[name=username]")
    assert page.url.endswith("/accounts/login/")
    page.fill("input[name=username]", "consultant")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Acme Cloud")
    assert not [e for e in errors if "404" not in e], errors
    connection.close()


def test_the_lineage_graph_searches_filters_by_type_and_resets(
    acme_and_globex, live_portal, page, monkeypatch
):
    """The search box highlights and centres the match; a type filter hides its nodes and their
    edges; Reset brings everything back; no console error."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    acme_project, _, estate = acme_and_globex
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_portal}/accounts/login/")
    page.fill("input[name=username]", "consultant")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    node = f"app:{estate.app_guid(5)}"
    page.goto(f"{live_portal}/projects/{acme_project.pk}/lineage/?node={node}")
    page.wait_for_selector("#lineage-graph[data-drawn]")
    graph = page.locator("#lineage-graph")
    model = estate.app_item(5)["name"]

    page.fill("#graph-search", model.upper()[2:-1])  # any case, any part of the label
    current = graph.locator("g.node.match.current")
    assert current.count() == 1
    assert current.get_attribute("data-id") == node
    matches = graph.locator("g.node.match").count()
    assert "of " + str(matches) in page.inner_text("#graph-search-count")
    page.press("#graph-search", "Enter")  # cycles: still exactly one current match
    assert graph.locator("g.node.match.current").count() == 1
    # centred: the view's middle lies on the current match
    x, y, w, h = (float(v) for v in graph.get_attribute("viewBox").split())
    box = page.evaluate(
        "() => { const b = document.querySelector('#lineage-graph g.node.current').getBBox();"
        " const t = document.querySelector('#lineage-graph g.node.current').transform.baseVal[0].matrix;"
        " return [t.e, t.f, b.width, b.height]; }"
    )
    assert box[0] <= x + w / 2 <= box[0] + box[2] and box[1] <= y + h / 2 <= box[1] + box[3]

    tables = graph.locator("g.node.t-table")
    assert tables.count() > 0
    page.uncheck("#graph-types input[value=table]")
    assert all(tables.nth(i).is_hidden() for i in range(tables.count()))
    assert graph.locator("g.node.t-app").first.is_visible()
    table_ids = {tables.nth(i).get_attribute("data-id") for i in range(tables.count())}
    embedded = json.loads(page.locator("#graph-data").inner_text())
    touching = [
        e for e in embedded["edges"] if {e["source"], e["target"]} & table_ids and e["source"] != e["target"]
    ]
    assert graph.locator("path.edge.filtered").count() == len(touching) > 0
    graph.locator("g.node.t-app").first.click()  # selecting re-colours edges; hidden ones stay hidden
    assert graph.locator("path.edge.filtered").count() == len(touching)
    assert all(tables.nth(i).is_hidden() for i in range(tables.count()))

    page.click("#graph-reset")
    assert page.input_value("#graph-search") == ""
    assert page.is_checked("#graph-types input[value=table]")
    assert tables.first.is_visible()
    assert graph.locator("g.node.match, g.node.selected, g.node.dim, path.edge.filtered").count() == 0
    assert not [e for e in errors if "404" not in e], errors  # the browser's own /favicon.ico
    connection.close()


def test_same_layer_edges_bow_out_of_their_layer(live_portal, page):
    """An edge between two nodes of one layer leaves the right side and bows into the gap to the
    next layer, so the box between them does not hide it. A crafted graph, as the demo's may
    have no such edge: a → c with b between them, all at depth 0, and c → d across layers."""
    graph = {
        "start": "a",
        "nodes": [{"id": i, "label": i, "type": "table", "depth": 1 if i == "d" else 0} for i in "abcd"],
        "edges": [
            {"source": "a", "target": "c", "relation": "reads", "sources": []},
            {"source": "c", "target": "d", "relation": "reads", "sources": []},
        ],
    }
    page.goto(f"{live_portal}/accounts/login/")  # same origin for the static script
    page.set_content(
        f'<script src="{live_portal}/static/atlas/graph.js"></script>'
        '<svg id="lineage-graph" data-base="/" data-pages="/" style="width:900px;height:500px"></svg>'
        '<aside id="node-details"></aside>'
        f'<script id="graph-data" type="application/json">{json.dumps(graph)}</script>'
    )
    page.wait_for_selector("#lineage-graph[data-drawn]")
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('#lineage-graph path.edge')].map((p) => {
          const b = p.getBBox();
          return { same: p.classList.contains('same-layer'), x: b.x, w: b.width };
        })"""
    )
    assert [b["same"] for b in boxes] == [True, False]
    assert boxes[0]["x"] >= 210 - 1 and boxes[0]["w"] >= 20  # right of the column of boxes, 210 wide


def test_clicking_a_node_frames_its_neighbourhood_with_readable_labels(
    acme_and_globex, live_portal, page, monkeypatch
):
    """Fit shows everything; a click frames the node and its direct neighbours instead, at a zoom
    where the labels can be read."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    acme_project, _, _ = acme_and_globex
    page.goto(f"{live_portal}/accounts/login/")
    page.fill("input[name=username]", "consultant")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_portal}/projects/{acme_project.pk}/lineage/")  # the project graph
    page.wait_for_selector("#lineage-graph[data-drawn]")
    graph = page.locator("#lineage-graph")
    page.click("#graph-fit")
    whole = graph.get_attribute("viewBox")
    node = graph.locator("g.node.t-app").first
    node_id = node.get_attribute("data-id")
    node.click()
    page.wait_for_function(f"document.getElementById('lineage-graph').getAttribute('viewBox') !== '{whole}'")
    framed = page.evaluate(
        """(id) => {
        const svg = document.getElementById('lineage-graph');
        const [x, y, w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
        const data = JSON.parse(document.getElementById('graph-data').textContent);
        const near = new Set([id]);
        data.edges.forEach((e) => {
          if (e.source === id) near.add(e.target);
          if (e.target === id) near.add(e.source);
        });
        const inside = [...near].every((n) => {
          const g = svg.querySelector(`g.node[data-id="${CSS.escape(n)}"]`);
          if (!g) return true;
          const m = g.transform.baseVal[0].matrix;
          return m.e >= x - 1 && m.e + 210 <= x + w + 1 && m.f >= y - 1 && m.f + 26 <= y + h + 1;
        });
        const scale = Math.min(svg.clientWidth / w, svg.clientHeight / h);
        return { inside, fontPx: 12 * scale, selected: svg.querySelector('g.node.selected').dataset.id };
      }""",
        node_id,
    )
    assert framed["selected"] == node_id
    assert framed["inside"]
    assert float(whole.split()[2]) > float(graph.get_attribute("viewBox").split()[2])  # zoomed in
    assert framed["fontPx"] >= 8
    connection.close()
