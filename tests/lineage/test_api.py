"""The lineage endpoints: nodes, edges, upstream, downstream and impact, RLS-scoped."""

import csv
import io

import pytest

from atlas.rls import acting_as
from customers.models import User
from customers.services import access_grant
from lineage.models import LineageNode
from tests.api import token_client
from tests.factories import tenant_create


@pytest.fixture
def client_and_project(estate_project, system_user):
    project, estate = estate_project
    user = User.objects.create_user("lineage-reader", password="x")
    with acting_as(system_user):
        access_grant(user=user, customer=project.customer)
    return token_client(user), project, estate


def test_downstream_answers_nodes_and_edges_with_depth(client_and_project):
    client, project, estate = client_and_project
    qvd = f"file:{estate.app_flows(0)[-1]['path'].lower()}"
    response = client.get(f"/api/v1/projects/{project.pk}/lineage/downstream/", {"node": qvd, "depth": 2})
    body = response.json()
    assert {n["node_id"]: n["depth"] for n in body["nodes"]} == {
        qvd: 0,
        f"app:{estate.app_guid(1)}": 1,
        f"file:{estate.app_flows(1)[-1]['path'].lower()}": 2,
        f"app:{estate.app_guid(2)}": 2,
    }
    assert {"source", "target", "relation", "sources"} <= set(body["edges"][0])


def test_upstream_and_impact_of_an_app_and_a_qvd(client_and_project):
    client, project, estate = client_and_project
    base = f"/api/v1/projects/{project.pk}/lineage"
    upstream = client.get(f"{base}/upstream/", {"node": f"app:{estate.app_guid(1)}"}).json()
    assert {n["type"] for n in upstream["nodes"]} >= {"app", "file", "table", "connection"}
    qvd = f"file:{estate.app_flows(0)[-1]['path'].lower()}"
    impact = client.get(f"{base}/impact/", {"node": qvd}).json()
    assert impact["apps_total"] == 3
    assert [level["depth"] for level in impact["by_depth"]] == [1, 2, 3]


def test_nodes_and_edges_filter_by_type_search_and_end(client_and_project, system_user):
    client, project, estate = client_and_project
    base = f"/api/v1/projects/{project.pk}/lineage"
    files = client.get(f"{base}/nodes/", {"type": "file", "page_size": 500}).json()["results"]
    with acting_as(system_user):
        assert len(files) == LineageNode.objects.filter(project=project, type="file").count() > 0
    found = client.get(f"{base}/nodes/", {"search": "extract/"}).json()["results"]
    assert found and all("extract/" in n["node_id"] for n in found)
    node = files[0]["node_id"]
    assert client.get(f"{base}/nodes/{node}/").json()["node_id"] == node
    model = f"app:{estate.app_guid(1)}"
    edges = client.get(f"{base}/edges/", {"target": model}).json()["results"]
    assert {e["source"] for e in edges} == {f"file:{estate.app_flows(0)[-1]['path'].lower()}"}


def test_bad_questions_get_clear_errors(client_and_project):
    client, project, _ = client_and_project
    base = f"/api/v1/projects/{project.pk}/lineage"
    missing = client.get(f"{base}/upstream/")
    assert missing.status_code == 400
    assert missing.json() == {"detail": "node: This field is required.", "code": "required"}
    assert client.get(f"{base}/upstream/", {"node": "app:nope"}).status_code == 404
    assert client.get(f"{base}/downstream/", {"node": "app:nope", "depth": 0}).status_code == 400


def test_another_customers_graph_is_a_404(db, system_user):
    mine, theirs = tenant_create("mine"), tenant_create("theirs")
    with acting_as(system_user):
        assert LineageNode.objects.filter(project=theirs.project).exists()
    client = token_client(mine.user)
    for path in ("nodes/", "edges/", "upstream/?node=file:theirs.qvd", "impact/?node=file:theirs.qvd"):
        assert client.get(f"/api/v1/projects/{theirs.project.pk}/lineage/{path}").status_code == 404, path


def test_impact_csv_is_one_row_per_impacted_app_with_its_depth(client_and_project):
    client, project, estate = client_and_project
    base = f"/api/v1/projects/{project.pk}/lineage"
    qvd = f"file:{estate.app_flows(0)[-1]['path'].lower()}"
    impact = client.get(f"{base}/impact/", {"node": qvd}).json()
    response = client.get(f"{base}/impact/", {"node": qvd, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == impact["apps_total"] == 3
    assert list(rows[0])[:4] == ["depth", "node_id", "app_id", "name"]
    expected = [(str(level["depth"]), app["app_id"]) for level in impact["by_depth"] for app in level["apps"]]
    assert [(row["depth"], row["app_id"]) for row in rows] == expected


def test_upstream_csv_is_one_row_per_node_with_its_depth(client_and_project):
    client, project, estate = client_and_project
    node = f"app:{estate.app_guid(1)}"
    url = f"/api/v1/projects/{project.pk}/lineage/upstream/"
    nodes = client.get(url, {"node": node}).json()["nodes"]
    rows = list(
        csv.DictReader(io.StringIO(client.get(url, {"node": node, "format": "csv"}).content.decode()))
    )
    assert [(int(r["depth"]), r["node_id"], r["type"]) for r in rows] == [
        (n["depth"], n["node_id"], n["type"]) for n in nodes
    ]


def test_a_csv_question_about_a_missing_node_answers_the_error_in_json(client_and_project):
    client, project, _ = client_and_project
    response = client.get(
        f"/api/v1/projects/{project.pk}/lineage/impact/", {"node": "app:nope", "format": "csv"}
    )
    assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert response.json() == {"detail": "No such lineage node in this project.", "code": "not_found"}
    typo = client.get(f"/api/v1/projects/{project.pk}/lineage/upstream/", {"nod": "app:x"})
    assert typo.status_code == 400 and typo.json()["detail"].startswith("nod: ")
    assert client.get(f"/api/v1/projects/{project.pk}/lineage/nodes/", {"type": "qvd"}).json() == {
        "detail": "type: qvd is not one of app, connection, table, file, unresolved.",
        "code": "invalid_choice",
    }
