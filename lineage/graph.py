"""Builds one lineage graph from three sources: Qlik's lineage API, reload metadata, scripts.

Pure Python over plain data (no ORM), so it is tested without a database and the sync
calls it with what it stored. Edges point the way data flows (connection → table → app →
QVD → app); an edge produced by several sources is one edge listing all of them, each
with its evidence.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lineage import identity
from lineage.script_parser import normalize_lib_path, script_references

SOURCE_API = "lineage_api"
SOURCE_RELOAD = "reload_metadata"
SOURCE_SCRIPT = "script"
MAX_EVIDENCE = 5  # per edge: enough to show why, bounded for apps loading a file 100 times


@dataclass(frozen=True)
class AppInput:
    """What the sync knows about one app."""

    guid: str
    name: str = ""
    item_id: str = ""
    script: str | None = None
    reload_metadata: Mapping | None = None
    lineage_graph: Mapping | None = None  # the `graph` of /lineage-graphs/nodes/{qri}


@dataclass
class LineageGraph:
    nodes: dict[str, dict] = field(default_factory=dict)
    edges: dict[tuple[str, str], dict] = field(default_factory=dict)

    def node(self, node_id: str, node_type: str, label: str, **data) -> str:
        node = self.nodes.get(node_id)
        if node is None:
            self.nodes[node_id] = {"id": node_id, "type": node_type, "label": label, **data}
        else:
            for key, value in data.items():
                node.setdefault(key, value)
            if node_type == "app" and label:
                node["label"] = label  # the app's own name beats a reference's spelling
        return node_id

    def edge(self, source: str, target: str, relation: str, origin: str, evidence: dict) -> None:
        if not source or not target or source == target:
            return
        edge = self.edges.get((source, target))
        if edge is None:
            edge = self.edges[(source, target)] = {
                "source": source,
                "target": target,
                "relation": relation,
                "sources": [],
                "evidence": [],
            }
        if origin not in edge["sources"]:
            edge["sources"].append(origin)
        if len(edge["evidence"]) < MAX_EVIDENCE:
            edge["evidence"].append({"source": origin, **evidence})


def lineage_graph_build(
    *,
    apps: Iterable[AppInput],
    connections: Iterable[Mapping] = (),
    includes: Mapping[str, str] | None = None,
) -> LineageGraph:
    """The project's graph. `connections` are data-connection objects (id, qName, qri)."""
    apps = list(apps)
    graph = LineageGraph()
    item_ids = {app.item_id.lower(): app.guid.lower() for app in apps if app.item_id}
    aliases: dict[str, str] = {}  # QRI → node id, learnt from connections and reload metadata
    for connection in connections:
        name = connection.get("qName") or ""
        if not name:
            continue
        node_id = graph.node(
            identity.connection_node_id(name),
            "connection",
            name,
            connection_id=connection.get("id", ""),
            connection_type=connection.get("qType", ""),
        )
        if connection.get("qri"):
            aliases[connection["qri"]] = node_id
    for app in apps:
        graph.node(identity.app_node_id(app.guid), "app", app.name or app.guid, app_id=app.guid.lower())
    for app in apps:
        if app.reload_metadata:
            _reload_metadata_edges(graph, app, aliases)
    for app in apps:
        if app.script:
            _script_edges(graph, app, includes or {}, item_ids)
    for app in apps:
        if app.lineage_graph:
            _api_edges(graph, app, aliases, item_ids)
    return graph


# --- reload metadata ---------------------------------------------------------------------


def _reload_metadata_edges(graph: LineageGraph, app: AppInput, aliases: dict[str, str]) -> None:
    app_node = identity.app_node_id(app.guid)
    reload_id = app.reload_metadata.get("reloadId", "")
    for statement in app.reload_metadata.get("statements") or []:
        if not isinstance(statement, Mapping):
            continue
        kind = str(statement.get("type", "")).lower()
        connection = statement.get("connection") or ""
        label = statement.get("label") or ""
        evidence = {"statement": f"{statement.get('type', '')} {label}".strip(), "reload": reload_id}
        connection_node = (
            graph.node(identity.connection_node_id(connection), "connection", connection)
            if connection
            else ""
        )
        if file_node := identity.file_node_id(label):
            graph.node(file_node, "file", normalize_lib_path(label)[6:], path=label)
            owner = connection_node or _file_connection(graph, label)
            graph.edge(owner, file_node, "contains", SOURCE_RELOAD, evidence)
            node = file_node
        elif connection and label and label.lower() != connection.lower():
            node = graph.node(
                identity.table_node_id(connection, label), "table", label, connection=connection
            )
            graph.edge(connection_node, node, "contains", SOURCE_RELOAD, evidence)
        elif connection_node:
            node = connection_node
        else:
            continue
        if statement.get("qri"):
            aliases.setdefault(statement["qri"], node)
        if kind == "store":
            graph.edge(app_node, node, "stores", SOURCE_RELOAD, evidence)
        else:
            graph.edge(node, app_node, "loads", SOURCE_RELOAD, evidence)


def _file_connection(graph: LineageGraph, path: str) -> str:
    node_id = identity.file_connection_node_id(path)
    if not node_id:
        return ""
    name = normalize_lib_path(path)[6:].split("/", 1)[0]
    return graph.node(node_id, "connection", name)


# --- scripts -------------------------------------------------------------------------------


def _script_edges(graph: LineageGraph, app: AppInput, includes, item_ids: dict[str, str]) -> None:
    app_node = identity.app_node_id(app.guid)
    internal = {"inline": 0, "autogenerate": 0, "resident": 0}
    for ref in script_references(app.script, includes=includes):
        evidence = {"statement": ref.statement, "line": ref.line}
        if ref.include:
            evidence["include"] = ref.include
        if ref.kind in internal:
            internal[ref.kind] += 1
        elif ref.kind == "connect":
            graph.node(identity.connection_node_id(ref.connection), "connection", ref.connection)
        elif ref.kind in ("load_file", "store"):
            node = graph.node(identity.file_node_id(ref.path), "file", ref.path, path=ref.path)
            graph.edge(_file_connection(graph, ref.path), node, "contains", SOURCE_SCRIPT, evidence)
            if ref.kind == "store":
                graph.edge(app_node, node, "stores", SOURCE_SCRIPT, evidence)
            else:
                graph.edge(node, app_node, "loads", SOURCE_SCRIPT, evidence)
        elif ref.kind == "load_sql":
            connection = graph.node(identity.connection_node_id(ref.connection), "connection", ref.connection)
            label = ".".join(part for part in ref.table if part)
            table = graph.node(
                identity.table_node_id(ref.connection, ref.table), "table", label, connection=ref.connection
            )
            graph.edge(connection, table, "contains", SOURCE_SCRIPT, evidence)
            graph.edge(table, app_node, "loads", SOURCE_SCRIPT, evidence)
        elif ref.kind == "binary" and (ref.path or identity.app_guid(ref.name, item_ids=item_ids)):
            if guid := identity.app_guid(ref.name, item_ids=item_ids):
                source = graph.node(identity.app_node_id(guid), "app", "", app_id=guid)
            else:
                source = graph.node(identity.file_node_id(ref.path), "file", ref.path, path=ref.path)
            graph.edge(source, app_node, "binary", SOURCE_SCRIPT, evidence)
        else:  # unresolved, or a binary of an app we do not know: kept with its line
            reason = ref.name
            if ref.kind == "binary":
                reason = f"binary of an app not in this project: {ref.name}"
            node = graph.node(
                identity.unresolved_node_id(app.guid, ref.line, ref.statement),
                "unresolved",
                ref.path or ref.statement[:120],
                reason=reason,
                line=ref.line,
                statement=ref.statement,
            )
            graph.edge(node, app_node, "unresolved", SOURCE_SCRIPT, evidence)
    graph.nodes[app_node].setdefault("internal_sources", internal)


# --- Qlik's lineage API --------------------------------------------------------------------

API_TYPES = (("app", "app"), ("connection", "connection"), ("datasource", "connection"), ("file", "file"))


def _api_node(graph: LineageGraph, qri: str, node: Mapping, aliases, item_ids) -> str:
    if guid := identity.app_guid(qri, item_ids=item_ids):
        return graph.node(identity.app_node_id(guid), "app", "", app_id=guid)
    if qri in aliases:
        return aliases[qri]
    label = str(node.get("label") or "")
    if file_node := identity.file_node_id(label):
        return graph.node(file_node, "file", label, path=label, qri=qri)
    metadata = node.get("metadata") if isinstance(node.get("metadata"), Mapping) else {}
    kind = f"{metadata.get('type', '')} {metadata.get('subtype', '')}".lower()
    node_type = next((mapped for word, mapped in API_TYPES if word in kind), "table")
    return graph.node(identity.qri_node_id(qri), node_type, label or qri, qri=qri)


def _api_edges(graph: LineageGraph, app: AppInput, aliases, item_ids) -> None:
    nodes = app.lineage_graph.get("nodes")
    edges = app.lineage_graph.get("edges")
    if not isinstance(nodes, Mapping) or not isinstance(edges, list):
        return
    ids = {
        qri: _api_node(graph, qri, node, aliases, item_ids)
        for qri, node in nodes.items()
        if isinstance(node, Mapping)
    }
    for edge in edges:
        if not isinstance(edge, Mapping) or edge.get("source") not in ids or edge.get("target") not in ids:
            continue
        source, target = ids[edge["source"]], ids[edge["target"]]
        relation = "loads" if graph.nodes[target]["type"] == "app" else str(edge.get("relation") or "flows")
        graph.edge(
            source, target, relation.lower(), SOURCE_API, {"statement": f"lineage graph of {app.guid}"}
        )
