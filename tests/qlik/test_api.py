"""The Qlik metadata endpoints on a synced estate: filters, detail by Qlik id, CSV, paging."""

import csv
import io

import pytest

from atlas.rls import acting_as
from customers.models import User
from customers.services import access_grant
from qlik.models import QlikApp, QlikAppUsage
from tests.api import token_client


@pytest.fixture
def consultant(estate_project, system_user):
    project, _ = estate_project
    user = User.objects.create_user("consultant-x", password="x")
    with acting_as(system_user):
        access_grant(user=user, customer=project.customer)
    return user


def _base(project) -> str:
    return f"/api/v1/projects/{project.pk}"


def test_apps_filter_by_space_usage_owner_name_and_dates(estate_project, consultant, system_user):
    project, _ = estate_project
    client = token_client(consultant)
    with acting_as(system_user):
        apps = list(QlikApp.objects.filter(project=project).values("app_id", "spaceId", "appName", "data"))
        usage = {u.app_id: u for u in QlikAppUsage.objects.filter(project=project)}
    space = next(a["spaceId"] for a in apps if a["spaceId"])
    owner = apps[0]["data"]["item"]["ownerId"]
    unused = {g for g, u in usage.items() if u.usageClassification == "unused"}
    cutoff = sorted(u.usageLastViewedAt for u in usage.values() if u.usageLastViewedAt)[2]

    def ids(query: str) -> set[str]:
        response = client.get(f"{_base(project)}/apps/?{query}")
        assert response.status_code == 200, response.content
        return {app["app_id"] for app in response.json()["results"]}

    assert ids(f"space={space}") == {a["app_id"] for a in apps if a["spaceId"] == space}
    assert ids("usage=unused") == unused
    assert ids(f"owner={owner}") == {a["app_id"] for a in apps if a["data"]["item"]["ownerId"] == owner}
    assert ids("name=dashboard") == {a["app_id"] for a in apps if "dashboard" in a["appName"].lower()}
    viewed_after = {g for g, u in usage.items() if u.usageLastViewedAt and u.usageLastViewedAt >= cutoff}
    assert ids(f"viewed_after={cutoff.isoformat().replace('+00:00', 'Z')}") == viewed_after
    assert 0 < len(viewed_after) < len(apps)
    assert client.get(f"{_base(project)}/apps/?usage=bogus").status_code == 400


def test_detail_views_answer_by_the_qlik_id(estate_project, consultant):
    project, estate = estate_project
    client = token_client(consultant)
    guid = estate.app_guid(1)
    app = client.get(f"{_base(project)}/apps/{guid}/").json()
    assert (app["app_id"], app["name"]) == (guid, estate.app_item(1)["name"])
    assert app["data"]["item"]["resourceId"] == guid
    space = estate.spaces[0]["id"]
    assert client.get(f"{_base(project)}/spaces/{space}/").json()["name"] == estate.spaces[0]["name"]
    connection = estate.connections[0]
    body = client.get(f"{_base(project)}/data-connections/{connection['id']}/").json()
    assert body["name"] == connection["qName"]
    assert client.get(f"{_base(project)}/scripts/{guid}/").json()["script"] == estate.app_script(1)
    assert client.get(f"{_base(project)}/apps/not-an-app/").status_code == 404


def test_no_connection_secret_is_served(estate_project, consultant):
    project, estate = estate_project
    client = token_client(consultant)
    body = client.get(f"{_base(project)}/data-connections/?format=json").content.decode()
    assert estate.connections[0]["qName"] in body
    assert "qConnectionSecret" not in body
    assert estate.connection_secret(0) not in body


def test_csv_lists_every_row_with_a_header(estate_project, consultant):
    project, _ = estate_project
    response = token_client(consultant).get(f"{_base(project)}/apps/?format=csv&page_size=5")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 12  # the whole filtered list, not one page
    assert {"app_id", "name", "usage_classification"} <= set(rows[0])


def test_app_pages_follow_the_name_order_without_gaps_or_repeats(estate_project, consultant):
    project, _ = estate_project
    client = token_client(consultant)
    url, seen = f"{_base(project)}/apps/?page_size=5", []
    while url:
        body = client.get(url).json()
        seen += [(a["name"], a["app_id"]) for a in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 12
    assert seen == sorted(seen)


def test_sync_runs_are_listed_newest_first(estate_project, consultant):
    project, _ = estate_project
    runs = token_client(consultant).get(f"{_base(project)}/sync-runs/").json()["results"]
    assert [(r["status"], r["counts"]["qlik_apps"]) for r in runs] == [("succeeded", 12)]


def test_csv_columns_follow_the_serializer_and_an_empty_list_keeps_its_header(estate_project, consultant):
    project, _ = estate_project
    client = token_client(consultant)
    header = client.get(f"{_base(project)}/apps/?format=csv").content.decode().splitlines()[0]
    assert header.split(",")[:3] == ["app_id", "name", "space_id"]
    empty = client.get(f"{_base(project)}/apps/?format=csv&name=no-such-app").content.decode()
    assert empty.splitlines() == [header]
