"""The Qlik metadata endpoints on a synced estate: filters, detail by Qlik id, CSV, paging."""

import base64
import csv
import io
import json
from urllib.parse import urlencode

import pytest

from atlas.rls import acting_as
from customers.models import User
from customers.services import access_grant
from qlik.models import QlikApp, QlikAppUsage, QlikSpace
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
    assert ids("owner=nobody") == set()


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


def test_one_app_object_has_snake_case_keys_only_and_data_is_qliks_own(estate_project, consultant):
    project, estate = estate_project
    app = token_client(consultant).get(f"{_base(project)}/apps/{estate.app_guid(1)}/").json()
    assert all(key == key.lower() for key in app), sorted(app)
    assert {"name", "space_id", "space_name", "owner_id", "reload_status", "nodes_count"} <= set(app)
    assert "resourceId" in app["data"]["item"]  # Qlik's payload, untouched


def test_apps_filter_by_space_name_reload_status_and_published(estate_project, consultant, system_user):
    project, _ = estate_project
    client = token_client(consultant)
    with acting_as(system_user):
        apps = list(
            QlikApp.objects.filter(project=project).values("app_id", "spaceId", "status", "published")
        )
        space = QlikSpace.objects.filter(project=project, spaceId__in=[a["spaceId"] for a in apps]).first()

    def ids(query: str) -> set[str]:
        response = client.get(f"{_base(project)}/apps/?{query}")
        assert response.status_code == 200, response.content
        return {app["app_id"] for app in response.json()["results"]}

    in_space = {a["app_id"] for a in apps if a["spaceId"] == space.spaceId}
    assert in_space and ids(f"space={space.spaceName.upper()}") == in_space == ids(f"space={space.spaceId}")
    assert ids("space=No such space") == set()  # a name is a search: no match is no error
    assert ids("reload_status=failed") == {a["app_id"] for a in apps if a["status"] == "failed"}
    assert ids("published=false") == {a["app_id"] for a in apps if a["published"] is False}


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("usage=bogus", "usage: bogus is not one of active, low_use"),
        ("reload_status=running", "reload_status: running is not one of ok, failed"),
        ("published=maybe", "published: maybe is not one of true, false"),
        ("reloaded_after=yesterday", "reloaded_after: "),
        ("onwer=abc", "onwer: This endpoint takes no such parameter; it takes cursor, format, name, owner"),
        ("page_size=0", "page_size: A whole number from 1 to 1000"),
        ("page_size=-5", "page_size: "),
        ("page_size=100000", "page_size: "),
        ("cursor=not-a-cursor", "cursor: Invalid cursor"),
        ("format=xml", "format: Unknown format 'xml': use one of csv, json."),
        ("name=" + "x" * 5000, "name: longer than 4096 characters."),
    ],
)
def test_a_bad_parameter_is_a_400_that_names_it(estate_project, consultant, query, named):
    project, _ = estate_project
    for fmt in ("", "&format=csv") if not query.startswith("format") else ("",):
        response = token_client(consultant).get(f"{_base(project)}/apps/?{query}{fmt}")
        assert response.status_code == 400, (query, fmt, response.content)
        assert response["Content-Type"] == "application/json"  # also when CSV was asked for
        body = response.json()
        assert set(body) == {"detail", "code"} and body["detail"].startswith(named), body


def test_a_forged_cursor_position_is_a_400_not_a_database_error(estate_project, consultant):
    project, _ = estate_project
    client = token_client(consultant)
    for position in ("\x00", "not-a-date"):
        cursor = base64.b64encode(urlencode({"p": position}).encode()).decode()
        response = client.get(f"{_base(project)}/sync-runs/", {"cursor": cursor})
        assert response.status_code == 400 and response.json()["code"] == "invalid", position


def test_a_missing_row_is_a_404_worded_like_every_other(estate_project, consultant):
    project, _ = estate_project
    client = token_client(consultant)
    for path, noun in (
        ("apps", "app"),
        ("spaces", "space"),
        ("datasets", "dataset"),
        ("sync-runs", "sync run"),
    ):
        response = client.get(f"{_base(project)}/{path}/404404/?format=csv")
        assert response.status_code == 404, path
        assert response.json() == {"detail": f"No such {noun} in this project.", "code": "not_found"}
    gone = client.get("/api/v1/projects/99999999999999999/apps/")
    assert gone.json() == {"detail": "No such project.", "code": "not_found"}


def test_csv_cells_hold_nested_values_as_json_text(estate_project, consultant):
    project, _ = estate_project
    response = token_client(consultant).get(f"{_base(project)}/sync-runs/?format=csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1 and not any("." in column for column in rows[0])
    assert json.loads(rows[0]["counts"])["qlik_apps"] == 12
