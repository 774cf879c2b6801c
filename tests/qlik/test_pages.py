"""The consultants' asset pages (issue 13): apps browser, app, space, connection, lineage
node, impact and sync history — what they show, their CSV, RLS, bad input and query counts."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atlas.rls import acting_as
from customers.models import User
from customers.services import access_grant, customer_create, project_create
from lineage.models import LineageEdge, LineageNode
from lineage.services import lineage_project_rebuild
from qlik.models import QlikApp, QlikAppUsage, QlikDataConnection, QlikSpace, QlikSyncRun, QlikUser
from qlik.services import QlikSnapshot, qlik_snapshot_replace
from qlik.views import apps as app_views
from tests.factories import tenant_create


@pytest.fixture
def consultant(client, estate_project, system_user):
    project, _ = estate_project
    user = User.objects.create_user("consultant-p", password="x")
    with acting_as(system_user):
        access_grant(user=user, customer=project.customer)
    client.force_login(user)
    return client


@pytest.fixture
def facts(estate_project, system_user):
    """What the pages should show, read straight from the tables."""
    project, estate = estate_project
    with acting_as(system_user):
        apps = list(QlikApp.objects.filter(project=project).order_by("appName", "app_id"))
        return {
            "project": project,
            "estate": estate,
            "apps": apps,
            "usage": dict(
                QlikAppUsage.objects.filter(project=project).values_list("app_id", "usageClassification")
            ),
            "users": dict(QlikUser.objects.filter(project=project).values_list("user_id", "name")),
            "spaces": list(QlikSpace.objects.filter(project=project)),
            "connections": list(QlikDataConnection.objects.filter(project=project)),
            "nodes": {n.node_id: n for n in LineageNode.objects.filter(project=project)},
            "edges": list(LineageEdge.objects.filter(project=project)),
        }


def _get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, (url, params, response.status_code)
    return response.content.decode()


def _csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# --- apps browser ----------------------------------------------------------------------------


def test_the_browser_lists_and_links_every_app_with_owner_names(consultant, facts):
    project = facts["project"]
    page = _get(consultant, f"/projects/{project.pk}/apps/")
    assert 'id="matched">12 apps' in page
    for app in facts["apps"]:
        assert f'href="/projects/{project.pk}/apps/{app.app_id}/"' in page
        assert facts["users"][app.ownerId] in page  # the owner's name, not the id
    assert facts["apps"][0].ownerId not in page.split('id="apps"')[1]


def test_browser_filters_live_in_the_url_and_the_csv_is_exactly_the_filtered_list(consultant, facts):
    project = facts["project"]
    usage = facts["usage"]
    code = max(set(usage.values()), key=list(usage.values()).count)
    expected = {guid for guid, value in usage.items() if value == code}
    assert 0 < len(expected) < 12
    page = _get(consultant, f"/projects/{project.pk}/apps/", usage=code)
    listed = set(re.findall(r'<tr data-app="([^"]+)"', page))
    assert listed == expected
    assert f'data-usage="{code}">' in page and f"<b>{len(expected)}</b>" in page  # the counts
    rows = _csv(consultant.get(f"/projects/{project.pk}/apps.csv", {"usage": code}))
    assert {row["app_id"] for row in rows} == expected
    assert list(rows[0]) == app_views.APP_CSV_COLUMNS and all(col.islower() for col in rows[0])
    # the CSV link on the page carries the filter
    assert f'href="/projects/{project.pk}/apps.csv?usage={code}"' in page


def test_browser_sorts_and_pages_by_keyset_without_losing_or_repeating_an_app(consultant, facts, monkeypatch):
    project = facts["project"]
    monkeypatch.setattr(app_views, "PAGE_SIZE", 5)
    for sort in ("name", "-last_reload", "owner", "-opens", "space", "last_viewed"):
        seen, url, pages = [], f"/projects/{project.pk}/apps/?sort={sort}", 0
        while url:
            page = _get(consultant, url.replace("&amp;", "&"))
            seen += re.findall(r'<tr data-app="([^"]+)"', page)
            nxt = re.search(r'href="(\?[^"]+)" id="next-page"', page)
            url = f"/projects/{project.pk}/apps/{nxt.group(1)}" if nxt else ""
            pages += 1
        assert pages == 3 and len(seen) == len(set(seen)) == 12, sort
    by_name = re.findall(
        r'<tr data-app="([^"]+)"', _get(consultant, f"/projects/{project.pk}/apps/?sort=name")
    )
    assert by_name == [app.app_id for app in facts["apps"][:5]]


def test_browser_filters_each_kind(consultant, facts):
    project = facts["project"]
    apps = facts["apps"]
    space = apps[0].spaceId
    owner = apps[0].ownerId

    def listed(**params):
        return set(
            re.findall(r'<tr data-app="([^"]+)"', _get(consultant, f"/projects/{project.pk}/apps/", **params))
        )

    assert listed(space=space) == {a.app_id for a in apps if a.spaceId == space}
    assert listed(owner=owner) == {a.app_id for a in apps if a.ownerId == owner}
    assert listed(published="yes") == {a.app_id for a in apps if a.published}
    assert listed(q=apps[3].appName) >= {apps[3].app_id}
    assert listed(q=apps[3].app_id[:8]) == {apps[3].app_id}  # a partial GUID
    assert listed(reload="failed") == {a.app_id for a in apps if a.status == "failed"}
    with_access = {a.app_id for a in apps if (a.data.get("attributes") or {}).get("hasSectionAccess")}
    assert listed(section_access="yes") == with_access
    assert listed(section_access="no") == {a.app_id for a in apps} - with_access
    page = _get(consultant, f"/projects/{project.pk}/apps/", usage="nonsense", stale="maybe")
    assert "left out: stale, usage" in page and 'id="matched">12 apps' in page


def test_every_dashboard_card_and_bar_opens_a_page(consultant, facts):
    project = facts["project"]
    page = _get(consultant, f"/projects/{project.pk}/")
    for target in ("apps/", "spaces/", "connections/", "syncs/"):
        assert f'class="card" href="/projects/{project.pk}/{target}"' in page
    bars = re.findall(r'<a (?:class="hbar" )?href="(/projects/\d+/apps/[^"]*)"', page)
    assert any("usage=" in b for b in bars) and any("failed_on=" in b for b in bars)
    assert any("connection_type=" in b for b in bars)
    for bar in set(bars):
        assert consultant.get(bar.replace("&amp;", "&")).status_code == 200
    usage_bar = next(b for b in bars if "usage=unused" in b)
    unused = {g for g, c in facts["usage"].items() if c == "unused"}
    assert set(re.findall(r'<tr data-app="([^"]+)"', _get(consultant, usage_bar))) == unused


# --- app page ----------------------------------------------------------------------------------


def test_the_app_page_shows_details_usage_script_and_lineage_lines(consultant, facts):
    project, estate = facts["project"], facts["estate"]
    guid = estate.app_guid(1)
    app = next(a for a in facts["apps"] if a.app_id == guid)
    page = _get(consultant, f"/projects/{project.pk}/apps/{guid}/")
    assert f'<h1 id="app-name">{app.appName}</h1>' in page
    assert facts["users"][app.ownerId] in page
    assert f'href="{project.customer.tenant_url.rstrip("/")}/sense/app/{guid}"' in page
    assert f"/api/v1/projects/{project.pk}/apps/{guid}/" in page
    assert 'data-chart="weekly-opens"' in page and 'data-usage="opens"' in page
    assert 'id="L1"' in page and '<span class="k">' in page  # numbered and highlighted
    # every line a lineage edge cites from this app's script links to the other end's page
    # lines of this app's script: what it loads (edges into it) and what it stores; a Binary
    # of this app by another counts in the other app's script
    cited = {
        (e.source if e.target == f"app:{guid}" else e.target, ev["line"])
        for e in facts["edges"]
        if e.target == f"app:{guid}" or (e.source == f"app:{guid}" and e.relation == "stores")
        for ev in e.data.get("evidence", [])
        if ev.get("source") == "script"
    }
    assert cited
    marked = {int(n) for n in re.findall(r'<div class="line used" id="L(\d+)"', page)}
    assert marked == {line for _, line in cited}
    for node_id, line in cited:
        row = page.split(f'id="L{line}"')[1].split('<div class="line')[0]
        node = facts["nodes"][node_id]
        link = f"/apps/{node.app_id}/" if node.app_id else "/nodes/?id="
        assert link in row and "used" in page.split(f'id="L{line}"')[0][-40:], (node_id, line)
    sources = page.split('id="sources"')[1].split("</table>")[0]
    assert "line " in sources


def test_an_app_of_another_customer_or_unknown_is_a_404(consultant, facts, system_user):
    project = facts["project"]
    other = tenant_create("other-app")
    with acting_as(system_user):
        qlik_snapshot_replace(
            project=other.project,
            snapshot=QlikSnapshot(apps=[{"item": {"resourceId": "0ther-app", "name": "Globex app"}}]),
        )
    assert consultant.get(f"/projects/{project.pk}/apps/0ther-app/").status_code == 404
    assert consultant.get(f"/projects/{other.project.pk}/apps/0ther-app/").status_code == 404
    for path in (
        "apps/",
        "apps.csv",
        "spaces/",
        "connections/",
        "syncs/",
        "impact/",
        "nodes/?id=x",
        "lineage/",
    ):
        assert consultant.get(f"/projects/{other.project.pk}/{path}").status_code == 404, path


# --- space, connection, node, impact, syncs ---------------------------------------------------


def test_a_space_page_lists_its_apps_and_a_connection_page_names_it_without_secrets(consultant, facts):
    project = facts["project"]
    space = facts["spaces"][0]
    page = _get(consultant, f"/projects/{project.pk}/spaces/{space.space_id}/")
    assert space.spaceName in page
    in_space = [a for a in facts["apps"] if a.spaceId == space.space_id]
    assert in_space and all(f"/apps/{a.app_id}/" in page for a in in_space)
    assert all(f"/apps/{a.app_id}/" not in page for a in facts["apps"] if a not in in_space)
    conn = next(c for c in facts["connections"] if c.qType not in ("", "folder")) or facts["connections"][0]
    page = _get(consultant, f"/projects/{project.pk}/connections/{conn.connection_id}/")
    assert f'<h1 id="connection-name">{conn.qName}' in page
    assert "qConnectionSecret" not in page.replace("(qConnectionSecret)", "")
    items = page.split('id="connection-items"')[1]
    assert "/nodes/?id=table" in items  # its tables
    apps = page.split('id="connection-apps"')[1].split("</table>")[0]
    assert "/apps/" in apps
    assert consultant.get(f"/projects/{project.pk}/connections/nope/").status_code == 404
    assert consultant.get(f"/projects/{project.pk}/spaces/nope/").status_code == 404


def test_a_file_node_page_names_who_writes_and_reads_it_and_its_catalog_entry(consultant, facts):
    project = facts["project"]
    node_id, node = next(
        (nid, n)
        for nid, n in facts["nodes"].items()
        if n.type == "file"
        and n.data.get("dataset_id")
        and any(e.target == nid and e.source.startswith("app:") for e in facts["edges"])
        and any(e.source == nid and e.target.startswith("app:") for e in facts["edges"])
    )
    page = _get(consultant, f"/projects/{project.pk}/nodes/", id=node_id)
    writers = page.split('id="writers"')[1].split("</table>")[0]
    readers = page.split('id="readers"')[1].split("</table>")[0]
    for edge in facts["edges"]:
        if edge.target == node_id and edge.source.startswith("app:"):
            assert f"/apps/{edge.source[4:]}/" in writers
        if edge.source == node_id and edge.target.startswith("app:"):
            assert f"/apps/{edge.target[4:]}/" in readers
    assert node.data["dataset_id"] in page.split('id="catalog-entry"')[1]
    app_node = next(n for n in facts["nodes"].values() if n.type == "app")
    response = consultant.get(f"/projects/{project.pk}/nodes/", {"id": app_node.node_id})
    assert response.status_code == 302 and response["Location"].endswith(f"/apps/{app_node.app_id}/")


def test_the_impact_page_of_a_connection_names_the_apps_downstream_with_csv(consultant, facts):
    project = facts["project"]
    conn = next(n for n in facts["nodes"].values() if n.type == "connection" and n.data.get("connection_id"))
    page = _get(consultant, f"/projects/{project.pk}/impact/", q=conn.label)
    assert f"?node={conn.node_id.replace(':', '%3A').replace(' ', '%20')}" in page
    page = _get(consultant, f"/projects/{project.pk}/impact/", node=conn.node_id)
    assert '<h1 id="impact-title">If <a' in page and conn.label in page
    assert 'data-depth="1"' in page and 'data-depth="2"' in page
    apps_named = re.findall(r"/apps/([0-9a-f-]{36})/", page.split('id="impact-summary"')[1])
    assert apps_named
    rows = _csv(consultant.get(f"/projects/{project.pk}/impact/", {"node": conn.node_id, "format": "csv"}))
    assert {r["app_id"] for r in rows if r["type"] == "app"} == set(apps_named)
    assert all(r["owner_name"] for r in rows if r["type"] == "app")
    assert list(rows[0])[:3] == ["depth", "node_id", "type"]


def test_sync_history_shows_runs_and_every_page_says_how_fresh_and_why_the_last_failed(
    consultant, facts, system_user
):
    project = facts["project"]
    page = _get(consultant, f"/projects/{project.pk}/syncs/")
    assert "Succeeded" in page and 'id="run-' in page
    with acting_as(system_user):
        QlikSyncRun.objects.create(
            project=project, trigger="schedule", status="failed", error="credentials rejected (401)"
        )
    app = facts["apps"][0]
    for path in (
        "",
        "apps/",
        f"apps/{app.app_id}/",
        "spaces/",
        "connections/",
        "syncs/",
        "impact/",
        "lineage/",
        "search/",
    ):
        page = _get(consultant, f"/projects/{project.pk}/{path}")
        fresh = page.split('id="freshness"')[1].split("</p>")[0]
        assert "Data as of the sync of" in fresh, path
        assert "credentials rejected (401)" in fresh and "from the last successful one" in fresh, path


# --- search ----------------------------------------------------------------------------------


def test_search_finds_an_app_by_guid_part_item_id_or_qri_and_links_results(consultant, facts):
    project = facts["project"]
    app = facts["apps"][2]
    item_id = app.data["item"]["id"]
    for query in (app.app_id, app.app_id[:13], item_id, f"qri:app:sense://{app.app_id}"):
        page = _get(consultant, f"/projects/{project.pk}/search/", q=query)
        first = page.split('id="result-apps"')[1].split("</li>")[0]
        assert f'href="/projects/{project.pk}/apps/{app.app_id}/"' in first, query
    space = facts["spaces"][0]
    page = _get(consultant, f"/projects/{project.pk}/search/", q=space.spaceName)
    assert f"/spaces/{space.space_id}/" in page
    empty = _get(consultant, f"/projects/{project.pk}/search/")
    assert "0 results" not in empty and "Nothing matches" not in empty


def test_search_names_the_app_and_line_of_unresolved_references(consultant, facts):
    project = facts["project"]
    node = next(n for n in facts["nodes"].values() if n.type == "unresolved")
    guid = node.node_id.split(":")[1]
    name = next(a.appName for a in facts["apps"] if a.app_id == guid)
    page = _get(consultant, f"/projects/{project.pk}/search/", q="sales_$(vDay)")
    assert f'/apps/{guid}/#L{node.data["line"]}">{name}, line {node.data["line"]}' in page


# --- bad input, logging out ------------------------------------------------------------------

FUZZ = ["\x00", "%00", "'; drop table x; --", "../../etc", "a" * 5000, "☃", "<script>", "-1", "1e309"]


def test_no_input_answers_500(consultant, facts):
    project = facts["project"]
    app = facts["apps"][0]
    pages = ["search/", "apps/", "apps.csv", "impact/", "nodes/", "lineage/", "syncs/", f"apps/{app.app_id}/"]
    params = [
        "q",
        "node",
        "id",
        "sort",
        "after",
        "usage",
        "space",
        "owner",
        "failed_on",
        "depth",
        "before",
        "format",
    ]
    for path in pages:
        for value in FUZZ:
            for name in params:
                response = consultant.get(f"/projects/{project.pk}/{path}", {name: value})
                # A NUL byte or an over-long value is a 400 (atlas.request_guard), others 200/404.
                assert response.status_code in (200, 400, 404), (path, name, value, response.status_code)
    for path in ("apps/%00/", "spaces/%00/", "connections/%00/", "apps/x%27/"):
        # A NUL byte is refused before any view (atlas.request_guard); a quote is just no such id.
        assert consultant.get(f"/projects/{project.pk}/{path}").status_code in (400, 404), path


def test_logging_out_returns_to_the_consultants_login(consultant):
    response = consultant.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


# --- query counts ------------------------------------------------------------------------------


def _project_with_apps(system_user, tag: str, n: int):
    with acting_as(system_user):
        project = project_create(
            customer=customer_create(name=f"Pages {tag}", tenant_url="https://s.example.com"), name=tag
        )
        apps = [f"{tag}-{i:05d}" for i in range(n)]
        spaces = max(1, n // 10)
        qlik_snapshot_replace(
            project=project,
            snapshot=QlikSnapshot(
                spaces=[{"id": f"s{i}", "name": f"Space {i}"} for i in range(spaces)],
                apps=[
                    {
                        "item": {
                            "resourceId": a,
                            "name": f"App {a}",
                            "spaceId": f"s{i % spaces}",
                            "ownerId": f"u{i % 50}",
                            "resourceReloadEndTime": "2026-01-01T00:00:00Z",
                        }
                    }
                    for i, a in enumerate(apps)
                ],
                data_connections=[
                    {"id": f"c{i}", "qName": f"Conn {i}", "qType": "folder"} for i in range(max(1, n // 20))
                ],
                users=[{"id": f"u{i}", "name": f"User {i}"} for i in range(50)],
                scripts={
                    a: f"LOAD * FROM [lib://Conn 0/{a}.qvd] (qvd);\nSTORE T INTO [lib://Conn 0/out-{a}.qvd];"
                    for a in apps
                },
                usage=[
                    {
                        "appId": a,
                        "appName": a,
                        "usageClassification": "unused",
                        "usageAppOpens": i,
                        "reloadFailures": ["2026-11-20"],
                    }
                    for i, a in enumerate(apps)
                ],
            ),
        )
        lineage_project_rebuild(project=project)
        QlikSyncRun.objects.create(project=project, trigger="command", status="succeeded")
    return project


def test_every_page_runs_a_constant_number_of_queries_at_100_and_1000_apps(client, system_user, db):
    # Ten times the rows: a query per row (or per space, per connection) would show. The
    # benches measure speed at 10,000 apps; this counts queries, so 1,000 is enough.
    small, large = (
        _project_with_apps(system_user, "small", 100),
        _project_with_apps(system_user, "large", 1_000),
    )
    client.force_login(User.objects.create_superuser("root-p", password="x"))
    counts = {}
    for project, tag in ((small, "small"), (large, "large")):
        app = f"{tag}-00003"
        paths = [
            "apps/",
            "apps/?usage=unused&sort=-last_reload&q=App",
            f"apps/?sort=-opens&after={app_views._cursor_encode(2, app)}",
            "apps.csv?space=s1",
            f"apps/{app}/",
            "spaces/",
            "spaces/s1/",
            "connections/",
            "connections/c0/",
            "syncs/",
            f"impact/?node=file:lib://conn 0/{app}.qvd",
            "impact/?q=conn",
            f"nodes/?id=file:lib://conn 0/{app}.qvd",
            f"lineage/?node=app:{app}",
            f"search/?q={app[:9]}",
            "",
        ]
        for n, path in enumerate(paths):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/projects/{project.pk}/{path}")
            assert response.status_code == 200, (path, response.status_code)
            counts.setdefault((n, path.replace(tag, "T").split("&after")[0]), []).append(len(queries))
    assert all(a == b for a, b in counts.values()), counts
    print("queries per page:", {path: n for (_, path), n in counts.items()})
