"""The consultants' pages: who sees which project, the dashboard, CSV, typo-tolerant search."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atlas.rls import acting_as
from customers.models import User
from customers.services import access_grant, customer_create, project_create
from qlik.services import QlikSnapshot, qlik_snapshot_replace
from tests.factories import tenant_create


@pytest.fixture
def consultant_client(client, estate_project, system_user):
    project, _ = estate_project
    user = User.objects.create_user("consultant-v", password="x")
    with acting_as(system_user):
        access_grant(user=user, customer=project.customer)
    client.force_login(user)
    return client


def test_pages_need_a_login(client, db):
    response = client.get("/projects/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_project_list_shows_only_granted_projects_with_their_last_sync(consultant_client, estate_project):
    project, _ = estate_project
    other = tenant_create("other")
    page = consultant_client.get("/projects/").content.decode()
    assert f"/projects/{project.pk}/" in page and "succeeded" in page
    assert other.customer.name not in page
    assert consultant_client.get(f"/projects/{other.project.pk}/").status_code == 404
    assert consultant_client.get(f"/projects/{other.project.pk}/lineage/").status_code == 404
    assert consultant_client.get(f"/projects/{other.project.pk}/search/?q=app").status_code == 404


def test_the_dashboard_shows_cards_charts_and_the_clean_up_table(consultant_client, estate_project):
    project, estate = estate_project
    page = consultant_client.get(f"/projects/{project.pk}/").content.decode()
    assert 'data-card="apps">12<' in page
    assert f'data-card="spaces">{estate.space_count}<' in page
    assert f'data-card="connections">{estate.connection_count}<' in page
    for chart in ("usage", "top_viewed", "reload_failures", "connection_types"):
        assert f'data-chart="{chart}"' in page and f"/export/{chart}.csv" in page
    assert page.count('class="bar"') > 4
    clean_up = page.split('id="clean-up"')[1]
    assert "usage-unused" in clean_up and ">Unused<" in clean_up  # words, not the stored code
    assert ">unused<" not in clean_up


@pytest.mark.parametrize("name", ["usage", "top_viewed", "reload_failures", "connection_types", "clean_up"])
def test_every_chart_and_the_clean_up_table_download_as_csv(consultant_client, estate_project, name):
    project, _ = estate_project
    response = consultant_client.get(f"/projects/{project.pk}/export/{name}.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) > 1 and all(len(row) == len(rows[0]) for row in rows)
    assert all(column == column.lower() and " " not in column for column in rows[0])  # as the API
    if name == "clean_up":
        assert rows[0][:3] == ["app_id", "name", "space_name"]
    if name == "usage":
        assert sum(int(row[1]) for row in rows[1:]) == 12


def test_misspelled_search_finds_the_app_spaces_connections_and_files(consultant_client, estate_project):
    project, estate = estate_project
    assert estate.app_item(2)["name"] == "Sales Dashboard 2"
    page = consultant_client.get(f"/projects/{project.pk}/search/", {"q": "slaes dashbord"}).content.decode()
    apps = page.split('id="result-apps"')[1].split("</ul>")[0]
    first = apps.split("<li>")[1]
    assert "Sales Dashboard 2" in first  # the best match comes first
    connection_name = estate.connections[0]["qName"]
    typo = connection_name[:3] + connection_name[4] + connection_name[3] + connection_name[5:]
    page = consultant_client.get(f"/projects/{project.pk}/search/", {"q": typo}).content.decode()
    assert connection_name in page


def test_one_short_word_with_swapped_letters_still_finds_its_apps(consultant_client, estate_project):
    project, estate = estate_project
    sales = sorted(
        estate.app_item(n)["name"] for n in estate.app_ids() if "Sales" in estate.app_item(n)["name"]
    )
    others = [
        estate.app_item(n)["name"] for n in estate.app_ids() if "Sales" not in estate.app_item(n)["name"]
    ]
    assert sales and others
    page = consultant_client.get(f"/projects/{project.pk}/search/", {"q": "slaes"}).content.decode()
    apps = page.split('id="result-apps"')[1].split("</ul>")[0]
    assert all(name in apps for name in sales)
    assert not any(name in apps for name in others)  # two edits from "sales", not from anything
    page = consultant_client.get(f"/projects/{project.pk}/search/", {"q": "xqzv"}).content.decode()
    assert "Nothing matches" in page


def test_the_lineage_page_embeds_the_neighbourhood_of_a_node(consultant_client, estate_project):
    project, estate = estate_project
    node = f"app:{estate.app_guid(1)}"
    response = consultant_client.get(f"/projects/{project.pk}/lineage/", {"node": node, "depth": 2})
    graph = response.context["graph"]
    depths = {n["id"]: n["depth"] for n in graph["nodes"]}
    assert (
        depths[node] == 0
        and depths[f"app:{estate.app_guid(0)}"] == -2
        and depths[f"app:{estate.app_guid(2)}"] == 1
    )
    assert 'id="graph-data"' in response.content.decode()
    assert consultant_client.get(f"/projects/{project.pk}/lineage/", {"node": "app:none"}).status_code == 404
    whole = consultant_client.get(f"/projects/{project.pk}/lineage/").context["graph"]
    assert len(whole["nodes"]) > len(graph["nodes"]) and not whole["truncated"]


def _project_with_apps(system_user, tag: str, n: int):
    with acting_as(system_user):
        project = project_create(
            customer=customer_create(name=f"Size {tag}", tenant_url="https://s.example.com"), name=tag
        )
        apps = [f"{tag}-{i}" for i in range(n)]
        qlik_snapshot_replace(
            project=project,
            snapshot=QlikSnapshot(
                spaces=[{"id": f"s{i}", "name": f"Space {i}"} for i in range(max(1, n // 10))],
                apps=[{"item": {"resourceId": a, "name": f"App {a}", "spaceId": "s0"}} for a in apps],
                data_connections=[
                    {"id": f"c{i}", "qName": f"Conn {i}", "qType": "folder"} for i in range(max(1, n // 20))
                ],
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
    return project


def test_the_dashboard_and_search_run_a_constant_number_of_queries(client, system_user, db):
    small, large = _project_with_apps(system_user, "small", 5), _project_with_apps(system_user, "large", 120)
    admin = User.objects.create_superuser("root", password="x")
    client.force_login(admin)
    counts = {}
    for project in (small, large):
        for path in ("", "search/?q=app", "lineage/"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(f"/projects/{project.pk}/{path}").status_code == 200
            counts.setdefault(path, []).append(len(queries))
    assert all(small == large for small, large in counts.values()), counts
