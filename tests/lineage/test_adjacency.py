"""Lineage walks from the graph held in the process: equal to the database walk, keyed by the
project's lineage digest, and reached only through a digest the user may read."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atlas.rls import acting_as
from customers.models import User
from customers.services import customer_create, project_create
from lineage import adjacency
from lineage.models import LineageNode
from lineage.selectors import (
    DOWNSTREAM,
    UPSTREAM,
    LineageNodeNotFound,
    lineage_graph_digest,
    lineage_neighbourhood,
    lineage_neighbourhood_database,
)
from lineage.services import lineage_graph_replace
from qlik.models import QlikSyncRun
from qlik.sync.runs import sync_run_finish, sync_run_start
from tests.api import token_client
from tests.factories import tenant_create


def _synced(project, digest: str) -> None:
    """A successful sync run that built the project's current graph, whose inputs gave `digest`."""
    run = sync_run_start(project=project, trigger=QlikSyncRun.Trigger.COMMAND)
    sync_run_finish(run=run, lineage_digest=digest)


def _graph(project, edges, *, digest: str, extra_nodes=()) -> None:
    names = sorted({name for edge in edges for name in edge} | set(extra_nodes))
    lineage_graph_replace(
        project=project,
        nodes=[{"id": name, "type": "file", "label": name.upper()} for name in names],
        edges=[
            {"source": s, "target": t, "relation": "flows", "evidence": [{"line": n}]}
            for n, (s, t) in enumerate(edges)
        ],
    )
    _synced(project, digest)


def _canonical(answer) -> tuple:
    nodes = sorted((n["id"], n["type"], n["label"], n["app_id"], n["depth"]) for n in answer.nodes)
    edges = sorted(
        (e["source"], e["target"], e["relation"], tuple(e["sources"]), repr(list(e["evidence"])))
        for e in answer.edges
    )
    return nodes, edges


@pytest.fixture
def cyclic(system_user):
    """a → b → c → a, c → d1 → … → d8, x → a; 'lonely' has no edge; 'ghost' has no node row."""
    with acting_as(system_user):
        project = project_create(
            customer=customer_create(name="Cyc", tenant_url="https://c.example.com"), name="P"
        )
        chain = [f"d{i}" for i in range(1, 9)]
        edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d1"), ("x", "a"), *itertools.pairwise(chain)]
        _graph(project, edges, digest="one", extra_nodes=["lonely"])
        LineageNode.objects.filter(project=project, node_id="d8").delete()  # an edge to a missing row
    return project


def test_the_cached_walk_answers_as_the_database_walk_on_every_node_direction_and_depth(cyclic, system_user):
    with acting_as(system_user):
        names = list(LineageNode.objects.filter(project=cyclic).values_list("node_id", flat=True))
        for node, direction, depth in itertools.product(names, (UPSTREAM, DOWNSTREAM), range(1, 7)):
            cached = lineage_neighbourhood(project=cyclic, node_id=node, direction=direction, depth=depth)
            walked = lineage_neighbourhood_database(
                project=cyclic, node_id=node, direction=direction, depth=depth
            )
            assert _canonical(cached) == _canonical(walked), (node, direction, depth)
            assert cached.nodes[0]["id"] == node and cached.nodes[0]["depth"] == 0
        assert adjacency.adjacency_info()["projects"] == 1
        for missing in ("ghost", "d8"):  # no such id; an id only edges name
            with pytest.raises(LineageNodeNotFound):
                lineage_neighbourhood(project=cyclic, node_id=missing, direction=DOWNSTREAM)


def test_the_cached_walk_answers_as_the_database_walk_after_a_real_sync(estate_project, system_user):
    project, _ = estate_project
    with acting_as(system_user):
        names = list(LineageNode.objects.filter(project=project).values_list("node_id", flat=True))
        assert len(names) > 20
        for node, direction in itertools.product(names, (UPSTREAM, DOWNSTREAM)):
            cached = lineage_neighbourhood(project=project, node_id=node, direction=direction, depth=6)
            walked = lineage_neighbourhood_database(
                project=project, node_id=node, direction=direction, depth=6
            )
            assert _canonical(cached) == _canonical(walked), (node, direction)
        assert adjacency.adjacency_info()["projects"] == 1  # the sync recorded a digest


def test_a_cached_walk_costs_one_query_the_digest_read_through_rls(cyclic, system_user):
    with acting_as(system_user):
        lineage_neighbourhood(project=cyclic, node_id="a", direction=DOWNSTREAM)  # loads
        with CaptureQueriesContext(connection) as queries:
            lineage_neighbourhood(project=cyclic, node_id="a", direction=DOWNSTREAM)
    assert len(queries) == 1 and "qlik_sync_runs" in queries[0]["sql"]


def test_a_changed_digest_reloads_the_graph(cyclic, system_user):
    with acting_as(system_user):
        before = lineage_neighbourhood(project=cyclic, node_id="a", direction=DOWNSTREAM, depth=1)
        assert {n["id"] for n in before.nodes} == {"a", "b"}
        # The graph is rebuilt in the database; until its sync run records the new digest, the
        # graph of the last successful sync answers.
        _graph(cyclic, [("a", "z"), ("z", "b")], digest="two")
        after = lineage_neighbourhood(project=cyclic, node_id="a", direction=DOWNSTREAM, depth=1)
        walked = lineage_neighbourhood_database(project=cyclic, node_id="a", direction=DOWNSTREAM, depth=1)
    assert {n["id"] for n in after.nodes} == {"a", "z"}
    with acting_as(system_user):
        assert lineage_graph_digest(project=cyclic) == "two"
    assert _canonical(after) == _canonical(walked)
    assert adjacency.adjacency_info()["projects"] == 1  # the old graph is gone, not kept beside


def test_graphs_are_isolated_per_project_even_with_equal_ids_and_digests(system_user):
    with acting_as(system_user):
        customer = customer_create(name="Two", tenant_url="https://two.example.com")
        first, second = (
            project_create(customer=customer, name="1"),
            project_create(customer=customer, name="2"),
        )
        _graph(first, [("a", "b")], digest="same")
        _graph(second, [("a", "c")], digest="same")
        ask = lambda project: lineage_neighbourhood(project=project, node_id="a", direction=DOWNSTREAM)  # noqa: E731
        assert {n["id"] for n in ask(first).nodes} == {"a", "b"}
        assert {n["id"] for n in ask(second).nodes} == {"a", "c"}
        assert {n["id"] for n in ask(first).nodes} == {"a", "b"}
    assert adjacency.adjacency_info()["projects"] == 2


def test_a_user_without_access_gets_nothing_even_when_the_graph_is_cached(db, system_user):
    mine, theirs = tenant_create("mine"), tenant_create("theirs")
    with acting_as(system_user):
        QlikSyncRun.objects.filter(project=theirs.project).update(lineage_digest="theirs")
        answer = lineage_neighbourhood(
            project=theirs.project, node_id="file:theirs.qvd", direction=DOWNSTREAM
        )
        assert len(answer.nodes) == 2
    assert adjacency.adjacency_info()["projects"] == 1  # their graph is held in the process
    with acting_as(mine.user):
        assert lineage_graph_digest(project=theirs.project) == ""
    with pytest.raises(LineageNodeNotFound), acting_as(mine.user):
        lineage_neighbourhood(project=theirs.project, node_id="file:theirs.qvd", direction=DOWNSTREAM)
    client = token_client(mine.user)
    for question in ("upstream", "downstream", "impact"):
        url = f"/api/v1/projects/{theirs.project.pk}/lineage/{question}/"
        assert client.get(url, {"node": "file:theirs.qvd"}).status_code == 404
    assert (
        token_client(theirs.user)
        .get(f"/api/v1/projects/{theirs.project.pk}/lineage/downstream/", {"node": "file:theirs.qvd"})
        .json()["nodes"]
    )


def test_projects_past_the_bounds_are_walked_in_the_database(cyclic, system_user, settings):
    settings.LINEAGE_CACHE_MAX_EDGES = 5
    with acting_as(system_user):
        answer = lineage_neighbourhood(project=cyclic, node_id="a", direction=DOWNSTREAM)
        walked = lineage_neighbourhood_database(project=cyclic, node_id="a", direction=DOWNSTREAM)
    assert _canonical(answer) == _canonical(walked)
    assert adjacency.adjacency_info()["projects"] == 0


def test_the_least_recently_used_graph_goes_first(system_user, settings):
    settings.LINEAGE_CACHE_MAX_PROJECTS = 2
    with acting_as(system_user):
        customer = customer_create(name="Three", tenant_url="https://three.example.com")
        projects = [project_create(customer=customer, name=str(n)) for n in range(3)]
        for project in projects:
            _graph(project, [("a", "b")], digest="d")
        for project in (projects[0], projects[1], projects[0], projects[2]):
            lineage_neighbourhood(project=project, node_id="a", direction=DOWNSTREAM)
    info = adjacency.adjacency_info()
    assert info["projects"] == 2 and info["mb"] > 0
    assert set(adjacency._graphs) == {projects[0].pk, projects[2].pk}


def test_the_node_page_runs_a_constant_number_of_queries_whether_the_graph_is_loaded_or_not(
    client, system_user
):
    admin = User.objects.create_superuser("root-lineage", password="x")
    client.force_login(admin)
    with acting_as(system_user):
        customer = customer_create(name="Sizes", tenant_url="https://sizes.example.com")
        small, large = (
            project_create(customer=customer, name="small"),
            project_create(customer=customer, name="large"),
        )
        _graph(small, [("n0", "n1")], digest="small")
        _graph(large, [(f"n{i}", f"n{i + step}") for i in range(300) for step in (1, 2, 3)], digest="large")
    counts = {}
    for project in (small, large):
        for state in ("loading", "loaded"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(f"/projects/{project.pk}/lineage/", {"node": "n0"}).status_code == 200
            counts.setdefault(state, []).append(len(queries))
    assert counts["loading"][0] == counts["loading"][1] and counts["loaded"][0] == counts["loaded"][1], counts
    assert counts["loaded"][0] < counts["loading"][0]
