"""Writes for the lineage graph of a project."""

from django.db import transaction
from django.db.models import Count

from customers.models import Project
from lineage.models import LineageEdge, LineageNode
from qlik.models import QlikApp


@transaction.atomic
def lineage_graph_replace(*, project: Project, nodes: list[dict], edges: list[dict]) -> dict[str, int]:
    """Replace the project's graph and keep the apps' lineage summary columns true.

    `nodes`: {"id", "type", "label", "app_id"?, ...}; `edges`: {"source", "target",
    "relation", ...}. Extra keys are kept in `data`.
    """
    LineageEdge.objects.filter(project=project).delete()
    LineageNode.objects.filter(project=project).delete()
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
            for node in nodes
        ],
        batch_size=1000,
    )
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
            for edge in edges
        ],
        batch_size=1000,
    )
    _app_lineage_summary_refresh(project=project)
    return {"lineage_nodes": len(nodes), "lineage_edges": len(edges)}


def _app_lineage_summary_refresh(*, project: Project) -> None:
    """Set nodesCount/edgesCount/rootNodeId/lineageFetched/lineageSuccess on every app.

    An app's count is of the edges touching its node and the nodes at their other ends.
    Computed in two grouped queries and one bulk update, whatever the number of apps.
    """
    app_nodes = dict(
        LineageNode.objects.filter(project=project, type=LineageNode.NodeType.APP)
        .exclude(app_id=None)
        .values_list("app_id", "node_id")
    )
    edges_by_node = _edge_counts(project=project, node_ids=set(app_nodes.values()))
    apps = list(QlikApp.objects.filter(project=project).only("row_id", "app_id"))
    for app in apps:
        node_id = app_nodes.get(app.app_id)
        edge_count = edges_by_node.get(node_id, 0)
        app.rootNodeId = node_id or ""
        app.edgesCount = edge_count
        app.nodesCount = edge_count + 1 if node_id else 0
        app.lineageFetched = True
        app.lineageSuccess = node_id is not None
    QlikApp.objects.bulk_update(
        apps, ["rootNodeId", "edgesCount", "nodesCount", "lineageFetched", "lineageSuccess"], batch_size=1000
    )


def _edge_counts(*, project: Project, node_ids: set[str]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(node_ids, 0)
    edges = LineageEdge.objects.filter(project=project)
    for column in ("source", "target"):
        for node_id, n in (
            edges.filter(**{f"{column}__in": node_ids}).values_list(column).annotate(n=Count("row_id"))
        ):
            counts[node_id] += n
    return counts
