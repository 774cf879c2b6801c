"""Writes for the lineage graph of a project."""

import math
import tempfile
from collections.abc import Iterable, Mapping

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce

from customers.models import Project
from lineage.graph import LineageGraphBuilder, SpooledLineageGraph
from lineage.models import LineageEdge, LineageNode
from qlik.models import QlikApp, QlikAppScript, QlikDataConnection

BATCH_SIZE = 2000
APPS_PER_PARTITION = 500  # a partition of the spooled graph holds a few MB of contributions
MAX_PARTITIONS = 256  # open files at once


@transaction.atomic
def lineage_project_rebuild(*, project: Project, includes: Mapping[str, str] | None = None) -> dict[str, int]:
    """Rebuild the project's graph from what the sync stored: scripts, reload metadata and
    Qlik's lineage-graph answers kept on each app, and the data connections.

    Runs in the caller's transaction (the sync's storage transaction), so the graph always
    matches the snapshot beside it. `includes` maps include-file paths to their text.
    Streams: each source is read in chunks, the graph is spooled to disk in partitions and
    merged and written one partition at a time, so memory does not grow with the project.
    """
    apps = QlikApp.objects.filter(project=project)
    partitions = min(MAX_PARTITIONS, math.ceil(apps.count() / APPS_PER_PARTITION) or 1)
    connections = [
        {"id": connection_id, "qName": name, "qri": qri, "qType": kind}
        for connection_id, name, qri, kind in QlikDataConnection.objects.filter(project=project).values_list(
            "connection_id", "qName", "qri", "qType"
        )
    ]
    with tempfile.TemporaryDirectory(prefix="lineage-") as directory:
        builder = LineageGraphBuilder(
            SpooledLineageGraph(directory, partitions), connections=connections, includes=includes
        )
        # Only the JSON keys each stage needs, not the whole stored objects.
        for guid, name, item_id in _stream(apps.values_list("app_id", "appName", "data__item__id")):
            builder.app(guid, name, str(item_id or ""))
        for guid, metadata in _stream(apps.values_list("app_id", "data__reloadMetadata")):
            builder.reload_metadata(guid, metadata)
        scripts = QlikAppScript.objects.filter(project=project, app_id__in=apps.values("app_id"))
        for guid, script in _stream(scripts.values_list("app_id", "script")):
            builder.script(guid, script)
        for guid, lineage_graph in _stream(apps.values_list("app_id", "data__lineageGraph")):
            builder.lineage_api(guid, lineage_graph)
        _graph_delete(project=project)
        counts = {"lineage_nodes": 0, "lineage_edges": 0}
        for partition in builder.graph.partitions():
            counts["lineage_nodes"] += _nodes_insert(project=project, nodes=partition.nodes.values())
            counts["lineage_edges"] += _edges_insert(project=project, edges=partition.edges.values())
    _app_lineage_summary_refresh(project=project, fetched=builder.fetched)
    return counts


def _stream(rows):
    return rows.order_by().iterator(chunk_size=BATCH_SIZE)


@transaction.atomic
def lineage_graph_replace(
    *, project: Project, nodes: list[dict], edges: list[dict], fetched: set[str] | None = None
) -> dict[str, int]:
    """Replace the project's graph and keep the apps' lineage summary columns true.

    `nodes`: {"id", "type", "label", "app_id"?, ...}; `edges`: {"source", "target",
    "relation", "sources"?, "evidence"?, ...}; extra keys are kept in `data`. `fetched`:
    the app GUIDs that had a lineage source to read (all apps when not given).
    """
    _graph_delete(project=project)
    counts = {
        "lineage_nodes": _nodes_insert(project=project, nodes=nodes),
        "lineage_edges": _edges_insert(project=project, edges=edges),
    }
    _app_lineage_summary_refresh(project=project, fetched=fetched)
    return counts


def _graph_delete(*, project: Project) -> None:
    LineageEdge.objects.filter(project=project).delete()
    LineageNode.objects.filter(project=project).delete()


def _slices(rows: Iterable[dict]) -> Iterable[list[dict]]:
    # bulk_create makes a list of its input, and a graph may have a million edges.
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _nodes_insert(*, project: Project, nodes: Iterable[dict]) -> int:
    count = 0
    for batch in _slices(nodes):
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
                for node in batch
            ]
        )
        count += len(batch)
    return count


def _edges_insert(*, project: Project, edges: Iterable[dict]) -> int:
    count = 0
    for batch in _slices(edges):
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
                for edge in batch
            ]
        )
        count += len(batch)
    return count


def _edge_count(*conditions, **filters):
    """The number of the project's edges matching the filters (OuterRefs to a node row)."""
    edges = (
        LineageEdge.objects.filter(*conditions, project_id=OuterRef("project_id"), **filters)
        .order_by()
        .values("project_id")
        .annotate(count=Count("row_id"))
        .values("count")
    )
    return Coalesce(Subquery(edges), 0)


def _app_lineage_summary_refresh(*, project: Project, fetched: set[str] | None) -> None:
    """Set nodesCount/edgesCount/rootNodeId/lineageFetched/lineageSuccess on every app.

    rootNodeId: the app's node; edgesCount: edges touching it; nodesCount: it and its
    distinct neighbours; lineageFetched: a source (script, reload metadata, lineage API)
    was there to read; lineageSuccess: fetched, and no `unresolved` edge into it.
    One query counts per app node through index probes on (project_id, source|target),
    a plan that stays cheap right after a bulk load, before statistics catch up; the apps
    are then updated in bulk a chunk at a time.
    """
    # Edges are unique per (source, target): neighbours = out + in - those linked both ways.
    reverse = LineageEdge.objects.filter(
        project_id=OuterRef("project_id"), source=OuterRef("target"), target=OuterRef("source")
    )
    app_nodes = (
        LineageNode.objects.filter(project=project, type=LineageNode.NodeType.APP)
        .exclude(app_id=None)
        .annotate(
            outgoing=_edge_count(source=OuterRef("node_id")),
            incoming=_edge_count(target=OuterRef("node_id")),
            both_ways=_edge_count(Exists(reverse), source=OuterRef("node_id")),
            unresolved=Exists(
                LineageEdge.objects.filter(
                    project_id=OuterRef("project_id"), target=OuterRef("node_id"), relation="unresolved"
                )
            ),
        )
        .values_list("app_id", "node_id", "outgoing", "incoming", "both_ways", "unresolved")
    )
    summary = {row[0]: row[1:] for row in app_nodes.order_by().iterator(chunk_size=BATCH_SIZE)}
    apps = QlikApp.objects.filter(project=project).only("row_id", "app_id").order_by()
    for batch in _slices(apps.iterator(chunk_size=BATCH_SIZE)):
        for app in batch:
            node_id, outgoing, incoming, both_ways, unresolved = summary.get(
                app.app_id.lower(), ("", 0, 0, 0, True)
            )
            app.rootNodeId = node_id
            app.edgesCount = outgoing + incoming
            app.nodesCount = outgoing + incoming - both_ways + 1 if node_id else 0
            app.lineageFetched = fetched is None or app.app_id.lower() in fetched
            app.lineageSuccess = bool(node_id) and app.lineageFetched and not unresolved
        QlikApp.objects.bulk_update(
            batch, ["rootNodeId", "edgesCount", "nodesCount", "lineageFetched", "lineageSuccess"]
        )
