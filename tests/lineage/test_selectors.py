"""Lineage questions after a real sync: upstream, downstream, impact, per-app sources."""

import itertools

import pytest

from atlas.rls import acting_as
from customers.services import customer_create, project_create
from lineage.graph import SOURCE_RELOAD, SOURCE_SCRIPT
from lineage.models import LineageEdge, LineageNode
from lineage.selectors import (
    DOWNSTREAM,
    UPSTREAM,
    LineageNodeNotFound,
    lineage_app_io,
    lineage_impact,
    lineage_neighbourhood,
)
from lineage.services import lineage_graph_replace
from qlik.models import QlikApp
from tests.factories import tenant_create


def _app(estate, n):
    return f"app:{estate.app_guid(n)}"


def _ask(user, project, node, direction, depth=None):
    with acting_as(user):
        return lineage_neighbourhood(project=project, node_id=node, direction=direction, depth=depth)


def test_downstream_of_a_qvd_written_by_one_app_returns_the_apps_that_load_it(estate_project, system_user):
    project, estate = estate_project
    extract_qvd = f"file:{estate.app_flows(0)[-1]['path'].lower()}"
    answer = _ask(system_user, project, extract_qvd, DOWNSTREAM)
    depths = {node["id"]: node["depth"] for node in answer.nodes}
    assert depths[_app(estate, 1)] == 1  # the Model loads the Extract's QVD
    assert depths[_app(estate, 2)] == 2  # the Dashboard binary-loads the Model
    assert depths[_app(estate, 3)] == 3  # the Report loads the Model's QVD
    assert _app(estate, 0) not in depths  # the writer is upstream, not downstream
    assert {(e["source"], e["target"]) for e in answer.edges} >= {(extract_qvd, _app(estate, 1))}


def test_upstream_of_an_app_reaches_connections_tables_and_files_through_every_hop(
    estate_project, system_user
):
    project, estate = estate_project
    # Report ← Model's QVD ← Model ← Extract's QVD ← Extract ← table ← connection: 6 hops.
    answer = _ask(system_user, project, _app(estate, 3), UPSTREAM, depth=6)
    by_type = {}
    for node in answer.nodes:
        by_type.setdefault(node["type"], set()).add(node["id"])
    connection = estate.connections[estate._app_profile(0)["connections"][0]]
    space = next(space["name"] for space in estate.spaces if space["id"] == connection["space"])
    sql = f"{space}:{connection['qName']}".lower()  # a listed connection is named with its space
    assert {_app(estate, 1), _app(estate, 0)} <= by_type["app"]
    assert f"table:{sql}/dwh.calendar" in by_type["table"]
    assert f"connection:{sql}" in by_type["connection"]
    assert len([n for n in by_type["file"] if n.endswith(".qvd")]) == 2  # the Model's and the Extract's QVDs
    assert by_type["unresolved"]  # the Report's run-time path, kept with its line


def test_an_edge_seen_by_script_and_reload_metadata_is_stored_once_with_both(estate_project, system_user):
    project, estate = estate_project
    qvd = f"file:{estate.app_flows(0)[-1]['path'].lower()}"
    with acting_as(system_user):
        edges = LineageEdge.objects.filter(project=project, source=qvd, target=_app(estate, 1))
        (edge,) = edges
    # An app with a reload is asked for its reload metadata, not also for Qlik's lineage
    # API: the two give the same facts, and the sync spends at most two calls per app.
    assert sorted(edge.data["sources"]) == sorted([SOURCE_RELOAD, SOURCE_SCRIPT])
    assert any(e.get("line") for e in edge.data["evidence"])


def test_app_lineage_columns_are_true_after_a_sync(estate_project, system_user):
    project, estate = estate_project
    with acting_as(system_user):
        model = QlikApp.objects.get(project=project, app_id=estate.app_guid(1))
        report = QlikApp.objects.get(project=project, app_id=estate.app_guid(3))
        io = lineage_app_io(project=project, app_id=estate.app_guid(1))
        edges_touching = LineageEdge.objects.filter(project=project, source=model.rootNodeId).count()
        edges_touching += LineageEdge.objects.filter(project=project, target=model.rootNodeId).count()
    assert model.rootNodeId == _app(estate, 1)
    assert model.edgesCount == edges_touching == len(io["sources"]) + len(io["outputs"])
    assert model.nodesCount == 1 + len({n["id"] for n in io["sources"] + io["outputs"]})
    assert (model.lineageFetched, model.lineageSuccess) == (True, True)
    assert (report.lineageFetched, report.lineageSuccess) == (True, False)  # it has an unresolved path
    assert {n["type"] for n in io["outputs"]} == {"file", "app"}  # its QVD, and the Dashboard's binary


def test_impact_lists_affected_apps_by_depth_with_owner_space_and_use(estate_project, system_user):
    project, estate = estate_project
    qvd = f"file:{estate.app_flows(0)[-1]['path'].lower()}"
    with acting_as(system_user):
        impact = lineage_impact(project=project, node_id=qvd)
    assert [(level["depth"], [a["app_id"] for a in level["apps"]]) for level in impact["by_depth"]] == [
        (1, [estate.app_guid(1)]),
        (2, [estate.app_guid(2)]),
        (3, [estate.app_guid(3)]),
    ]
    first = impact["by_depth"][0]["apps"][0]
    item = estate.app_item(1)
    assert (first["owner_id"], first["space_id"], first["name"]) == (
        item["ownerId"],
        item["spaceId"] or "",
        item["name"],
    )
    assert impact["apps_total"] == 3
    assert impact["apps_used"] == sum(a["used"] for level in impact["by_depth"] for a in level["apps"])


@pytest.fixture
def cyclic_project(db, system_user):
    """a → b → c → a, and a chain c → d1 → d2 → ... → d12."""
    with acting_as(system_user):
        project = project_create(
            customer=customer_create(name="Cyc", tenant_url="https://c.example.com"), name="P"
        )
        chain = [f"d{i}" for i in range(1, 13)]
        names = ["a", "b", "c", *chain]
        edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d1"), *list(itertools.pairwise(chain))]
        lineage_graph_replace(
            project=project,
            nodes=[{"id": n, "type": "file", "label": n} for n in names],
            edges=[{"source": s, "target": t, "relation": "flows"} for s, t in edges],
        )
    return project


def test_cycles_end_the_walk_and_each_node_appears_once_at_its_shortest_depth(cyclic_project, system_user):
    answer = _ask(system_user, cyclic_project, "a", DOWNSTREAM, depth=3)
    assert {n["id"]: n["depth"] for n in answer.nodes} == {"a": 0, "b": 1, "c": 2, "d1": 3}
    assert ("c", "a") in {(e["source"], e["target"]) for e in answer.edges}  # the edge closing the cycle


def test_depth_defaults_to_five_and_is_bounded_by_the_setting(cyclic_project, system_user, settings):
    assert max(n["depth"] for n in _ask(system_user, cyclic_project, "d1", DOWNSTREAM).nodes) == 5
    settings.LINEAGE_MAX_DEPTH = 7
    answer = _ask(system_user, cyclic_project, "d1", DOWNSTREAM, depth=50)
    assert (answer.depth, max(n["depth"] for n in answer.nodes)) == (7, 7)


def test_no_node_or_edge_of_another_customer_is_ever_reached(db, system_user):
    mine, theirs = tenant_create("mine"), tenant_create("theirs")
    foreign_node = "file:theirs.qvd"
    with acting_as(system_user):  # the hidden rows exist
        assert LineageNode.objects.filter(project=theirs.project, node_id=foreign_node).exists()
        assert _ask(system_user, theirs.project, foreign_node, DOWNSTREAM).nodes
    with pytest.raises(LineageNodeNotFound):
        _ask(mine.user, theirs.project, foreign_node, DOWNSTREAM)
    with acting_as(mine.user):
        assert not LineageEdge.objects.filter(project=theirs.project).exists()
    answer = _ask(mine.user, mine.project, "file:mine.qvd", DOWNSTREAM)
    assert {n["id"] for n in answer.nodes} == {"file:mine.qvd", "app:app-mine-0"}
