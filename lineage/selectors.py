"""Reads of the lineage graph: nodes, edges, upstream/downstream, impact."""

import functools
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from customers.models import Project
from lineage.adjacency import adjacency_get
from lineage.models import LineageEdge, LineageNode
from qlik.models import QlikSyncRun
from qlik.selectors import app_list, sync_run_list

UPSTREAM, DOWNSTREAM = "upstream", "downstream"
DEFAULT_DEPTH = 5
NODE_FIELDS = ("node_id", "type", "label", "app_id")


class LineageNodeNotFound(LookupError):
    """No node with that id in the project (or not one the user may see)."""


@dataclass(frozen=True)
class Neighbourhood:
    """A traversal's answer: nodes with their depth from the start, and the edges walked."""

    start: str
    direction: str
    depth: int
    nodes: list[dict]
    edges: list[dict]

    def as_dict(self) -> dict:
        return {
            "start": self.start,
            "direction": self.direction,
            "depth": self.depth,
            "nodes": self.nodes,
            "edges": self.edges,
        }


def lineage_node_list(*, project: Project) -> QuerySet[LineageNode]:
    return LineageNode.objects.filter(project=project)


def lineage_edge_list(*, project: Project) -> QuerySet[LineageEdge]:
    return LineageEdge.objects.filter(project=project)


def lineage_depth_clamp(depth: int | None) -> int:
    """The depth asked for, within 1..LINEAGE_MAX_DEPTH (default 5)."""
    if depth is None:
        depth = DEFAULT_DEPTH
    return max(1, min(int(depth), settings.LINEAGE_MAX_DEPTH))


def _node_dict(node_id: str, node_type: str, label: str, app_id: str | None, depth: int) -> dict:
    return {"id": node_id, "type": node_type, "label": label or node_id, "app_id": app_id, "depth": depth}


def lineage_graph_digest(*, project: Project) -> str:
    """The digest of the project's current graph (its last successful sync's), or "".

    One indexed query through RLS, as the requesting user: it is also what lets a request
    reach a cached graph, so a user who may not see the project gets "" and walks nothing.
    """
    sql, template, at = _digest_statement()
    params = [*template]  # a copy: threads share the template
    params[at] = project.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return (row and row[0]) or ""


_PROJECT_PLACEHOLDER = -1  # no project has this id


@functools.cache
def _digest_statement() -> tuple[str, tuple, int]:
    """The ORM's statement for the digest, compiled once per process: on the cached walk's
    path, Django's compiling of it costs as much as the round trip itself. The SQL is the
    ORM's, unchanged (not hand-written); only the project id differs between requests."""
    runs = sync_run_list(project_id=_PROJECT_PLACEHOLDER, status=QlikSyncRun.Status.SUCCEEDED)
    sql, params = runs.values_list("lineage_digest", flat=True)[:1].query.sql_with_params()
    (at,) = [n for n, value in enumerate(params) if value == _PROJECT_PLACEHOLDER]
    return sql, tuple(params), at


def lineage_neighbourhood(
    *, project: Project, node_id: str, direction: str, depth: int | None = None
) -> Neighbourhood:
    """Every node within `depth` hops upstream (where data comes from) or downstream (where
    it goes), each with its distance, and the edges between them.

    One query when the project's graph is held in this process (lineage/adjacency.py):
    its digest, read through RLS as the user; the walk is then in memory. The graph is
    loaded on first use of a digest; projects past the cache's bounds, or synced by no
    successful run yet, are walked in the database (`lineage_neighbourhood_database`).
    """
    if direction not in (UPSTREAM, DOWNSTREAM):
        raise ValueError(f"direction must be {UPSTREAM!r} or {DOWNSTREAM!r}")
    depth = lineage_depth_clamp(depth)
    digest = lineage_graph_digest(project=project)
    graph = adjacency_get(
        project=project, digest=digest, recheck=lambda: lineage_graph_digest(project=project)
    )
    if graph is None:
        return lineage_neighbourhood_database(
            project=project, node_id=node_id, direction=direction, depth=depth
        )
    answer = graph.walk(node_id=node_id, direction=direction, depth=depth)
    if answer is None:
        raise LineageNodeNotFound(node_id)
    nodes, edges = answer
    return Neighbourhood(start=node_id, direction=direction, depth=depth, nodes=nodes, edges=edges)


def lineage_neighbourhood_database(
    *, project: Project, node_id: str, direction: str, depth: int | None = None
) -> Neighbourhood:
    """`lineage_neighbourhood` walked in the database, level by level.

    Breadth-first, one indexed query per level on (project_id, target) or (project_id,
    source): at most depth + 2 queries whatever the graph's size. Each node is expanded
    once, at its shortest distance, so cycles end the walk instead of looping; a recursive
    CTE would carry every path instead of every node, which is what makes it slow on dense
    graphs.
    """
    if direction not in (UPSTREAM, DOWNSTREAM):
        raise ValueError(f"direction must be {UPSTREAM!r} or {DOWNSTREAM!r}")
    depth = lineage_depth_clamp(depth)
    start = LineageNode.objects.filter(project=project, node_id=node_id).values_list(*NODE_FIELDS).first()
    if start is None:
        raise LineageNodeNotFound(node_id)
    near = "target" if direction == UPSTREAM else "source"
    distance = {node_id: 0}
    frontier = [node_id]
    edges: list[dict] = []
    for level in range(1, depth + 1):
        if not frontier:
            break
        found = []
        for source, target, relation, data in LineageEdge.objects.filter(
            project=project, **{f"{near}__in": frontier}
        ).values_list("source", "target", "relation", "data"):
            edges.append(
                {
                    "source": source,
                    "target": target,
                    "relation": relation,
                    "sources": data.get("sources", []),
                    "evidence": data.get("evidence", []),
                }
            )
            other = source if direction == UPSTREAM else target
            if other not in distance:
                distance[other] = level
                found.append(other)
        frontier = found
    rows = {start[0]: start}
    others = [node for node in distance if node != node_id]
    if others:
        rows.update(
            (row[0], row)
            for row in LineageNode.objects.filter(project=project, node_id__in=others).values_list(
                *NODE_FIELDS
            )
        )
    nodes = [_node_dict(*rows[node], depth=distance[node]) for node in distance if node in rows]
    return Neighbourhood(start=node_id, direction=direction, depth=depth, nodes=nodes, edges=edges)


def lineage_impact(*, project: Project, node_id: str, depth: int | None = None) -> dict:
    """Which apps a change to `node_id` reaches, by depth, with owner, space and last use.

    "used" means viewed within the usage window (QLIK_USAGE_WINDOW_DAYS). Two queries
    whatever the graph's size: the traversal, then `app_list` (space and usage joined in)
    for all affected apps at once.
    """
    downstream = lineage_neighbourhood(project=project, node_id=node_id, direction=DOWNSTREAM, depth=depth)
    affected = {
        node["app_id"]: node for node in downstream.nodes if node["type"] == "app" and node["depth"] > 0
    }
    apps = {
        row["app_id"]: row
        for row in app_list(project=project)
        .filter(app_id__in=affected)
        .values(
            "app_id",
            "appName",
            "spaceId",
            "space_name",
            "usage_classification",
            "last_viewed_at",
            "last_reload_at",
            "data__item__ownerId",
        )
    }
    used_since = timezone.now() - timedelta(days=settings.QLIK_USAGE_WINDOW_DAYS)
    by_depth: dict[int, list[dict]] = {}
    for guid, node in sorted(affected.items(), key=lambda pair: (pair[1]["depth"], pair[1]["label"])):
        app = apps.get(guid, {})
        last_viewed = app.get("last_viewed_at")
        by_depth.setdefault(node["depth"], []).append(
            {
                "id": node["id"],
                "app_id": guid,
                "name": app.get("appName") or node["label"],
                "owner_id": app.get("data__item__ownerId") or "",
                "space_id": app.get("spaceId") or "",
                "space_name": app.get("space_name") or ("Personal" if app and not app.get("spaceId") else ""),
                "usage_classification": app.get("usage_classification") or "",
                "last_viewed_at": last_viewed,
                "last_reload_at": app.get("last_reload_at"),
                "used": bool(last_viewed and last_viewed >= used_since),
            }
        )
    affected_apps = [app for apps_at_depth in by_depth.values() for app in apps_at_depth]
    start = downstream.nodes[0]
    return {
        "node": start,
        "depth": downstream.depth,
        "apps_total": len(affected_apps),
        "apps_used": sum(app["used"] for app in affected_apps),
        "window_days": settings.QLIK_USAGE_WINDOW_DAYS,
        "by_depth": [{"depth": depth, "apps": apps_at} for depth, apps_at in sorted(by_depth.items())],
    }


def lineage_app_io(*, project: Project, app_id: str) -> dict:
    """An app's direct sources and outputs (one hop each way)."""
    node_id = f"app:{app_id.lower()}"
    upstream = lineage_neighbourhood(project=project, node_id=node_id, direction=UPSTREAM, depth=1)
    downstream = lineage_neighbourhood(project=project, node_id=node_id, direction=DOWNSTREAM, depth=1)
    return {
        "node": node_id,
        "sources": [node for node in upstream.nodes if node["depth"] == 1],
        "outputs": [node for node in downstream.nodes if node["depth"] == 1],
    }


def lineage_both_ways(*, project: Project, node_id: str, depth: int | None = None) -> dict:
    """A node's upstream (negative depths) and downstream (positive) in one graph."""
    upstream = lineage_neighbourhood(project=project, node_id=node_id, direction=UPSTREAM, depth=depth)
    downstream = lineage_neighbourhood(project=project, node_id=node_id, direction=DOWNSTREAM, depth=depth)
    nodes = {node["id"]: {**node, "depth": -node["depth"]} for node in upstream.nodes}
    nodes.update(
        {node["id"]: node for node in downstream.nodes if node["id"] not in nodes or node["depth"] == 0}
    )
    edges = {(edge["source"], edge["target"]): edge for edge in upstream.edges + downstream.edges}
    return {
        "start": node_id,
        "nodes": list(nodes.values()),
        "edges": list(edges.values()),
        "truncated": False,
    }


def lineage_project_graph(*, project: Project, limit: int) -> dict:
    """The project's graph for the page: whole up to `limit` nodes, else its best-connected.

    Two queries (three when cut): the nodes, then the edges among them; past `limit`, the
    nodes with the most outgoing edges, picked by a grouped count inside the node query.
    Depths are left to the page's layered layout.
    """
    project_nodes = LineageNode.objects.filter(project=project)
    rows = list(project_nodes.order_by("node_id").values_list(*NODE_FIELDS)[: limit + 1])
    truncated = len(rows) > limit
    if truncated:
        best_connected = (
            LineageEdge.objects.filter(project=project)
            .values("source")
            .annotate(n=Count("row_id"))
            .order_by("-n", "source")
            .values_list("source", flat=True)[:limit]
        )
        rows = list(project_nodes.filter(node_id__in=best_connected).values_list(*NODE_FIELDS))
    ids = [row[0] for row in rows]
    edges = [
        {"source": source, "target": target, "relation": relation, "sources": data.get("sources", [])}
        for source, target, relation, data in LineageEdge.objects.filter(
            project=project, source__in=ids, target__in=ids
        ).values_list("source", "target", "relation", "data")
    ]
    nodes = [_node_dict(*row, depth=None) for row in rows]
    return {"start": "", "nodes": nodes, "edges": edges, "truncated": truncated}


# --- the consultants' pages ---------------------------------------------------------------------

APP_FIELDS = (
    "app_id",
    "appName",
    "spaceId",
    "space_name",
    "ownerId",
    "owner_name",
    "usage_classification",
    "last_viewed_at",
    "last_reload_at",
)


def lineage_node_get(*, project: Project, node_id: str) -> LineageNode:
    """A node of the project; raises LineageNodeNotFound."""
    node = lineage_node_list(project=project).filter(node_id=node_id).first()
    if node is None:
        raise LineageNodeNotFound(node_id)
    return node


def lineage_node_of_connection(*, project: Project, connection_id: str) -> str | None:
    """The node id of a listed data connection (the builder keeps its id in the node's data)."""
    return (
        lineage_node_list(project=project)
        .filter(type=LineageNode.NodeType.CONNECTION, data__connection_id=connection_id)
        .values_list("node_id", flat=True)
        .first()
    )


def lineage_nodes_of_datasets(*, project: Project, dataset_ids: list[str]) -> dict[str, str]:
    """Dataset id → node id of the catalog's data files among `dataset_ids` (one query)."""
    if not dataset_ids:
        return {}
    rows = (
        lineage_node_list(project=project)
        .filter(type=LineageNode.NodeType.FILE, data__dataset_id__in=dataset_ids)
        .values_list("data__dataset_id", "node_id")
    )
    return dict(rows)


def lineage_apps(*, project: Project, app_ids) -> dict[str, dict]:
    """App GUID → name, space, owner and usage of the apps among `app_ids` (one query)."""
    app_ids = [guid for guid in app_ids if guid]
    if not app_ids:
        return {}
    return {
        row["app_id"]: row for row in app_list(project=project).filter(app_id__in=app_ids).values(*APP_FIELDS)
    }


def _with_apps(project: Project, nodes: list[dict]) -> list[dict]:
    apps = lineage_apps(project=project, app_ids={node.get("app_id") for node in nodes})
    return [{**node, "app": apps.get(node.get("app_id") or "")} for node in nodes]


def lineage_node_io(*, project: Project, node_id: str) -> dict:
    """Who feeds a node and whom it feeds, one hop each way, with the evidence of each edge
    (script lines, reload statements) and the apps' name, space, owner and usage. Seven
    queries whatever the graph's size."""
    upstream = lineage_neighbourhood(project=project, node_id=node_id, direction=UPSTREAM, depth=1)
    downstream = lineage_neighbourhood(project=project, node_id=node_id, direction=DOWNSTREAM, depth=1)
    into = {edge["source"]: edge for edge in upstream.edges}
    out = {edge["target"]: edge for edge in downstream.edges}
    sources = [_io_node(node, into.get(node["id"])) for node in upstream.nodes if node["depth"] == 1]
    outputs = [_io_node(node, out.get(node["id"])) for node in downstream.nodes if node["depth"] == 1]
    both = _with_apps(project, sources + outputs)
    return {
        "node": upstream.nodes[0],
        "sources": sorted(both[: len(sources)], key=_node_order),
        "outputs": sorted(both[len(sources) :], key=_node_order),
    }


def _io_node(node: dict, edge: dict | None) -> dict:
    """A neighbour with the edge to it and `script_app`: the app whose script the edge's
    line numbers count in — the storing app for "stores", the loading app otherwise."""
    script_app = ""
    if edge:
        end = edge["source"] if edge["relation"] == "stores" else edge["target"]
        script_app = end.removeprefix("app:") if end.startswith("app:") else ""
    return {**node, "edge": edge, "script_app": script_app}


def _node_order(node: dict):
    return (node["type"] != "app", node["type"], (node["label"] or "").lower(), node["id"])


def lineage_script_lines(*, io: dict, app_id: str) -> dict[int, list[dict]]:
    """Script line → the nodes the app's script read from or wrote to on that line (from the
    script evidence of the app's `lineage_node_io`; a Binary of this app counts in the
    other app's script, not in this one)."""
    lines: dict[int, list[dict]] = {}
    for node in io["sources"] + io["outputs"]:
        if node.get("script_app") != app_id:
            continue
        for evidence in (node.get("edge") or {}).get("evidence", []):
            line = evidence.get("line")
            used = evidence.get("source") == "script" and isinstance(line, int)
            if used and node not in lines.setdefault(line, []):
                lines[line].append(node)
    return lines


def lineage_connection_contents(*, project: Project, node_id: str) -> dict:
    """What a connection holds (tables and files, one hop down) and, for each, the apps that
    read or write it. Five queries whatever the graph's size."""
    contains = lineage_neighbourhood(project=project, node_id=node_id, direction=DOWNSTREAM, depth=1)
    held = {
        node["id"]: {**node, "readers": [], "writers": []} for node in contains.nodes if node["depth"] == 1
    }
    app_ids = set()
    if held:
        edges = (
            lineage_edge_list(project=project)
            .filter(Q(source__in=list(held)) | Q(target__in=list(held)))
            .values_list("source", "target", "relation")
        )
        for source, target, relation in edges:
            if source in held and target.startswith("app:"):
                held[source]["readers"].append(target.removeprefix("app:"))
                app_ids.add(target.removeprefix("app:"))
            elif target in held and source.startswith("app:") and relation != "contains":
                held[target]["writers"].append(source.removeprefix("app:"))
                app_ids.add(source.removeprefix("app:"))
    found = lineage_apps(project=project, app_ids=app_ids)
    apps = {
        guid: found.get(guid) or {**dict.fromkeys(APP_FIELDS, ""), "app_id": guid, "appName": guid}
        for guid in app_ids
    }
    items = sorted(held.values(), key=_node_order)
    for item in items:
        item["readers"] = [apps[guid] for guid in sorted(set(item["readers"]))]
        item["writers"] = [apps[guid] for guid in sorted(set(item["writers"]))]
    used_by = sorted(
        apps.values(),
        key=lambda app: ((app.get("appName") or "").lower(), app["app_id"]),
    )
    return {"items": items, "apps": used_by}


def lineage_downstream_report(*, project: Project, node_id: str, depth: int | None = None) -> dict:
    """Everything downstream of a node, grouped by depth — "what breaks, and who will
    notice": every node, and each app with owner, space, usage class and last view. Three
    queries plus one per level (at most LINEAGE_MAX_DEPTH)."""
    downstream = lineage_neighbourhood(project=project, node_id=node_id, direction=DOWNSTREAM, depth=depth)
    nodes = _with_apps(project, [node for node in downstream.nodes if node["depth"] > 0])
    used_since = timezone.now() - timedelta(days=settings.QLIK_USAGE_WINDOW_DAYS)
    by_depth: dict[int, list[dict]] = {}
    for node in sorted(nodes, key=lambda n: (n["depth"], *_node_order(n))):
        viewed = (node["app"] or {}).get("last_viewed_at")
        node["used"] = bool(viewed and viewed >= used_since)
        by_depth.setdefault(node["depth"], []).append(node)
    apps = [node for node in nodes if node["type"] == "app"]
    return {
        "node": downstream.nodes[0],
        "depth": downstream.depth,
        "nodes_total": len(nodes),
        "apps_total": len(apps),
        "apps_used": sum(node["used"] for node in apps),
        "window_days": settings.QLIK_USAGE_WINDOW_DAYS,
        "by_depth": [{"depth": level, "nodes": rows} for level, rows in sorted(by_depth.items())],
    }


def lineage_node_search(*, project: Project, query: str, limit: int = 20) -> list[LineageNode]:
    """Nodes whose label is like `query` (typos forgiven), the exact id first."""
    from qlik.selectors import _search

    query = query.replace("\x00", "").strip()[:200]
    if not query:
        return []
    exact = list(lineage_node_list(project=project).filter(node_id=query)[:1])
    found = _search(lineage_node_list(project=project), "label", query, limit)
    return exact + [node for node in found if not exact or node.node_id != exact[0].node_id]
