"""Writes for the lineage graph of a project."""

from collections import defaultdict
from collections.abc import Mapping

from django.db import transaction
from django.db.models import OuterRef, Subquery

from customers.models import Project
from lineage.graph import AppInput, lineage_graph_build
from lineage.models import LineageEdge, LineageNode
from qlik.models import QlikApp, QlikAppScript, QlikDataConnection

BATCH_SIZE = 2000


@transaction.atomic
def lineage_project_rebuild(*, project: Project, includes: Mapping[str, str] | None = None) -> dict[str, int]:
    """Rebuild the project's graph from what the sync stored: scripts, reload metadata and
    Qlik's lineage-graph answers kept on each app, and the data connections.

    Runs in the caller's transaction (the sync's storage transaction), so the graph always
    matches the snapshot beside it. `includes` maps include-file paths to their text.
    """
    # Only the JSON keys the graph needs, not the whole stored objects (items, attributes).
    rows = (
        QlikApp.objects.filter(project=project)
        .annotate(
            script=Subquery(
                QlikAppScript.objects.filter(
                    project_id=OuterRef("project_id"), app_id=OuterRef("app_id")
                ).values("script")[:1]
            )
        )
        .values_list(
            "app_id", "appName", "data__item__id", "data__reloadMetadata", "data__lineageGraph", "script"
        )
    )
    apps = [
        AppInput(
            guid=app_id,
            name=name,
            item_id=str(item_id or ""),
            script=script,
            reload_metadata=reload_metadata,
            lineage_graph=lineage_graph,
        )
        for app_id, name, item_id, reload_metadata, lineage_graph, script in rows.iterator(
            chunk_size=BATCH_SIZE
        )
    ]
    connections = [
        {"id": connection_id, "qName": name, "qri": qri, "qType": kind}
        for connection_id, name, qri, kind in QlikDataConnection.objects.filter(project=project).values_list(
            "connection_id", "qName", "qri", "qType"
        )
    ]
    graph = lineage_graph_build(apps=apps, connections=connections, includes=includes)
    fetched = {app.guid.lower() for app in apps if app.script or app.reload_metadata or app.lineage_graph}
    return lineage_graph_replace(
        project=project, nodes=list(graph.nodes.values()), edges=list(graph.edges.values()), fetched=fetched
    )


@transaction.atomic
def lineage_graph_replace(
    *, project: Project, nodes: list[dict], edges: list[dict], fetched: set[str] | None = None
) -> dict[str, int]:
    """Replace the project's graph and keep the apps' lineage summary columns true.

    `nodes`: {"id", "type", "label", "app_id"?, ...}; `edges`: {"source", "target",
    "relation", "sources"?, "evidence"?, ...}; extra keys are kept in `data`. `fetched`:
    the app GUIDs that had a lineage source to read (all apps when not given).
    """
    LineageEdge.objects.filter(project=project).delete()
    LineageNode.objects.filter(project=project).delete()
    # In slices: bulk_create makes a list of its input, and a graph may have a million edges.
    for start in range(0, len(nodes), BATCH_SIZE):
        LineageNode.objects.bulk_create(
            [
                LineageNode(
                    project=project,
                    node_id=node["id"],
                    type=node["type"],
                    label=node.get("label", ""),
                    app_id=node.get("app_id"),
                    data=node,
                )
                for node in nodes[start : start + BATCH_SIZE]
            ]
        )
    for start in range(0, len(edges), BATCH_SIZE):
        LineageEdge.objects.bulk_create(
            [
                LineageEdge(
                    project=project,
                    edge_id=f"{edge['source']}->{edge['target']}",
                    source=edge["source"],
                    target=edge["target"],
                    relation=edge.get("relation", ""),
                    data=edge,
                )
                for edge in edges[start : start + BATCH_SIZE]
            ]
        )
    _app_lineage_summary_refresh(project=project, nodes=nodes, edges=edges, fetched=fetched)
    return {"lineage_nodes": len(nodes), "lineage_edges": len(edges)}


def _app_lineage_summary_refresh(
    *, project: Project, nodes: list[dict], edges: list[dict], fetched: set[str] | None
) -> None:
    """Set nodesCount/edgesCount/rootNodeId/lineageFetched/lineageSuccess on every app.

    rootNodeId: the app's node; edgesCount: edges touching it; nodesCount: it and its
    distinct neighbours; lineageFetched: a source (script, reload metadata, lineage API)
    was there to read; lineageSuccess: fetched, and nothing of it left unresolved. Computed
    from the graph in memory and written in one bulk update, whatever the number of apps.
    """
    app_nodes = {
        node["app_id"].lower(): node["id"] for node in nodes if node["type"] == "app" and node.get("app_id")
    }
    types = {node["id"]: node["type"] for node in nodes}
    edge_count: dict[str, int] = defaultdict(int)
    neighbours: dict[str, set[str]] = defaultdict(set)
    unresolved: set[str] = set()
    for edge in edges:
        source, target = edge["source"], edge["target"]
        for node, other in ((source, target), (target, source)):
            edge_count[node] += 1
            neighbours[node].add(other)
        if types.get(source) == "unresolved":
            unresolved.add(target)
    apps = list(QlikApp.objects.filter(project=project).only("row_id", "app_id"))
    for app in apps:
        node_id = app_nodes.get(app.app_id.lower())
        app.rootNodeId = node_id or ""
        app.edgesCount = edge_count.get(node_id, 0)
        app.nodesCount = len(neighbours.get(node_id, ())) + 1 if node_id else 0
        app.lineageFetched = fetched is None or app.app_id.lower() in fetched
        app.lineageSuccess = bool(node_id) and app.lineageFetched and node_id not in unresolved
    QlikApp.objects.bulk_update(
        apps,
        ["rootNodeId", "edgesCount", "nodesCount", "lineageFetched", "lineageSuccess"],
        batch_size=BATCH_SIZE,
    )
