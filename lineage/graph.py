"""Builds one lineage graph from three sources: Qlik's lineage API, reload metadata, scripts,
over the project's listed data connections and data files.

Pure Python over plain data (no ORM), so it is tested without a database and the sync
feeds it what it stored. Edges point the way data flows (connection → table → app →
QVD → app); an edge produced by several sources is one edge listing all of them, each
with its evidence. Every data file the catalog lists is a node, read or not.

The graph is written into a sink with `node()` and `edge()`: `LineageGraph` holds it in
memory; `SpooledLineageGraph` parks every contribution on disk, partitioned by key, and
merges one partition at a time, so building a project's graph takes memory that does not
grow with its nodes and edges. The builder itself keeps only what names things: the
connections and spaces, each app's item id and each QRI's node (one short entry per app,
connection, space, data file and QRI met).
"""

import pickle
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from lineage import identity
from lineage.script_parser import normalize_lib_path, script_references

SOURCE_API = "lineage_api"
SOURCE_RELOAD = "reload_metadata"
SOURCE_SCRIPT = "script"
DATA_FILE = "qix-df"  # a dataset's resourceSubType when it is a data file
RELATION_LENGTH = 32  # lineage_edges.relation; a tenant's relation name is cut, not refused
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


class GraphSink(Protocol):
    def node(self, node_id: str, node_type: str, label: str, **data) -> str: ...

    def edge(self, source: str, target: str, relation: str, origin: str, evidence: dict) -> None: ...


@dataclass
class LineageGraph:
    """A graph in memory; contributions to one node or edge merge in the order they come."""

    nodes: dict[str, dict] = field(default_factory=dict)
    edges: dict[tuple[str, str], dict] = field(default_factory=dict)

    def node(self, node_id: str, node_type: str, label: str, **data) -> str:
        node = self.nodes.get(node_id)
        if node is None:
            self.nodes[node_id] = {"id": node_id, "type": node_type, "label": label, **data}
        else:
            for key, value in data.items():
                node.setdefault(key, value)
            if label and (node_type == "app" or "dataset_id" in data):
                node["label"] = label  # the app's or data file's own name beats a reference's spelling
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


class SpooledLineageGraph:
    """A graph whose contributions go to `partitions` files by the hash of their key.

    Every contribution to one node or edge lands in the same file, in the order it was
    made, so replaying a file into a `LineageGraph` merges exactly as one big in-memory
    graph would. Only one partition is ever in memory (grace hash partitioning).
    """

    def __init__(self, directory: str | Path, partitions: int):
        self._directory = Path(directory)
        self._files = [(self._directory / f"part-{n}.pickle").open("wb") for n in range(max(1, partitions))]

    def _write(self, key: str, record: tuple) -> None:
        pickle.dump(record, self._files[zlib.crc32(key.encode()) % len(self._files)], pickle.HIGHEST_PROTOCOL)

    def node(self, node_id: str, node_type: str, label: str, **data) -> str:
        self._write(node_id, ("node", node_id, node_type, label, data))
        return node_id

    def edge(self, source: str, target: str, relation: str, origin: str, evidence: dict) -> None:
        if source and target and source != target:
            self._write(f"{source}\0{target}", ("edge", source, target, relation, origin, evidence))

    def partitions(self) -> Iterator[LineageGraph]:
        """Each partition merged in memory, one after another; the files are removed."""
        for handle in self._files:
            handle.close()
        for handle in self._files:
            path = Path(handle.name)
            graph = LineageGraph()
            with path.open("rb") as records:
                while True:
                    try:
                        kind, *args = pickle.load(records)  # noqa: S301 - our own file, just written
                    except EOFError:
                        break
                    if kind == "node":
                        graph.node(*args[:3], **args[3])
                    else:
                        graph.edge(*args)
            path.unlink()
            yield graph


class LineageGraphBuilder:
    """Adds a project's apps to a graph, one source at a time.

    Call `app()` for every app first (it learns item ids, by which scripts and the lineage
    API may name an app), then `dataset()` for every data file (it learns their QRIs), then
    `reload_metadata()` for every app (it learns which other QRI is which file or table),
    then `script()` and `lineage_api()`. Each stage may stream. Connection names, however
    a source writes them, resolve through `identity.ConnectionNames` (given `connections`
    and `spaces`, space id → name), which also tells the SQL dialect of each.
    """

    def __init__(
        self,
        graph: GraphSink,
        *,
        connections: Iterable[Mapping] = (),
        includes: Mapping[str, str] | None = None,
        spaces: Mapping[str, str] | None = None,
    ):
        self.graph = graph
        self.includes = includes or {}
        self.names = identity.ConnectionNames(connections, spaces)
        self.item_ids: dict[str, str] = {}
        self.aliases: dict[str, tuple[str, str]] = {}  # QRI → (node id, node type)
        self.fetched: set[str] = set()  # GUIDs (lower case) of apps with a source to read
        self._apps: dict[str, str] = {}  # lower-case GUID → GUID as given
        for connection in self.names.listed:
            node_id = graph.node(
                connection.node_id,
                "connection",
                connection.label,
                connection_id=connection.connection_id,
                connection_type=connection.connection_type,
                space_id=connection.space_id,
                space_name=connection.space_name,
            )
            if connection.qri:
                self.aliases[connection.qri] = (node_id, "connection")

    def app(self, guid: str, name: str = "", item_id: str = "") -> None:
        self._apps[guid.lower()] = guid
        self.graph.node(identity.app_node_id(guid), "app", name or guid, app_id=guid.lower())
        if item_id:
            self.item_ids[item_id.lower()] = guid.lower()

    def dataset(self, dataset: Mapping) -> None:
        """A data file of the catalog (a `qlik_datasets` row's columns): its file node, named
        by the path scripts use for it, and its QRIs as aliases of that node. Call after
        `app()` and before `reload_metadata()`; other datasets are ignored."""
        file_name = str(dataset.get("technicalName") or dataset.get("name") or "").strip()
        if dataset.get("resourceSubType") != DATA_FILE or not file_name:
            return
        space_id = str(dataset.get("spaceId") or "")
        space = (self.names.spaces.get(space_id) or space_id) if space_id else ""
        path = identity.data_file_path(file_name, space=space)
        updated = dataset.get("updatedAt")
        node_id = self.graph.node(
            identity.file_node_id(path),
            "file",
            str(dataset.get("name") or file_name),
            path=path,
            dataset_id=str(dataset.get("dataset_id") or ""),
            size=dataset.get("size"),
            space_id=space_id,
            updated_at=updated.isoformat() if hasattr(updated, "isoformat") else updated,
            data_store_type=str(dataset.get("dataStoreType") or ""),
            qri=str(dataset.get("qri") or ""),
            secure_qri=str(dataset.get("secureQri") or ""),
        )
        for qri in (dataset.get("secureQri"), dataset.get("qri")):
            if qri:
                self.aliases[qri] = (node_id, "file")

    @property
    def apps_without_source(self) -> list[str]:
        """GUIDs (as given) of the apps that had nothing to read: no script, no reload
        metadata, no lineage-API answer."""
        return [guid for key, guid in self._apps.items() if key not in self.fetched]

    def _known(self, guid: str) -> bool:
        return guid.lower() in self._apps  # a source of an app not added is ignored

    def reload_metadata(self, guid: str, metadata: Mapping | None) -> None:
        if metadata and self._known(guid):
            self.fetched.add(guid.lower())
            _reload_metadata_edges(self.graph, guid, metadata, self.aliases, self.names)

    def script(self, guid: str, script: str | None) -> None:
        if script and self._known(guid):
            self.fetched.add(guid.lower())
            _script_edges(self.graph, guid, script, self.includes, self.item_ids, self.names)

    def lineage_api(self, guid: str, lineage_graph: Mapping | None) -> None:
        if lineage_graph and self._known(guid):
            self.fetched.add(guid.lower())
            _api_edges(self.graph, guid, lineage_graph, self.aliases, self.item_ids)


def lineage_graph_build(
    *,
    apps: Iterable[AppInput],
    connections: Iterable[Mapping] = (),
    includes: Mapping[str, str] | None = None,
    graph: GraphSink | None = None,
    spaces: Mapping[str, str] | None = None,
    datasets: Iterable[Mapping] = (),
) -> GraphSink:
    """The project's graph, in `graph` (a new in-memory `LineageGraph` unless given).
    `connections` are data-connection objects (id, qName, qri, qType, space); `spaces` maps
    space ids to names; `datasets` are `qlik_datasets` rows' columns (see `dataset()`)."""
    apps = list(apps)
    builder = LineageGraphBuilder(
        LineageGraph() if graph is None else graph, connections=connections, includes=includes, spaces=spaces
    )
    for app in apps:
        builder.app(app.guid, app.name, app.item_id)
    for dataset in datasets:
        builder.dataset(dataset)
    for app in apps:
        builder.reload_metadata(app.guid, app.reload_metadata)
    for app in apps:
        builder.script(app.guid, app.script)
    for app in apps:
        builder.lineage_api(app.guid, app.lineage_graph)
    return builder.graph


# --- reload metadata ---------------------------------------------------------------------


def _reload_metadata_edges(graph: GraphSink, guid: str, metadata: Mapping, aliases, names) -> None:
    app_node = identity.app_node_id(guid)
    reload_id = metadata.get("reloadId", "")
    for statement in metadata.get("statements") or []:
        if not isinstance(statement, Mapping):
            continue
        kind = str(statement.get("type", "")).lower()
        connection = str(statement.get("connection") or "")
        connection_id = str(statement.get("connectionId") or "")
        label = str(statement.get("label") or "")
        evidence = {"statement": f"{statement.get('type', '')} {label}".strip(), "reload": reload_id}
        resolved = names.resolve(connection, connection_id=connection_id) if connection else None
        connection_node = _connection_node(graph, resolved) if resolved else ""
        if file_node := identity.file_node_id(label):
            graph.node(file_node, "file", normalize_lib_path(label)[6:], path=label)
            owner = connection_node or _file_connection(graph, label, names)
            graph.edge(owner, file_node, "contains", SOURCE_RELOAD, evidence)
            node, node_type = file_node, "file"
        elif resolved and label and label.lower() != connection.lower():
            node = graph.node(
                identity.table_node_id(resolved.key, label), "table", label, connection=resolved.label
            )
            graph.edge(connection_node, node, "contains", SOURCE_RELOAD, evidence)
            node_type = "table"
        elif connection_node:
            node, node_type = connection_node, "connection"
        else:
            continue
        if statement.get("qri"):
            aliases.setdefault(statement["qri"], (node, node_type))
        if kind == "store":
            graph.edge(app_node, node, "stores", SOURCE_RELOAD, evidence)
        else:
            graph.edge(node, app_node, "loads", SOURCE_RELOAD, evidence)


def _connection_node(graph: GraphSink, connection: identity.Connection) -> str:
    """The node of a connection met in a source (a listed one's details came with the listing)."""
    return graph.node(connection.node_id, "connection", connection.label)


def _file_connection(graph: GraphSink, path: str, names) -> str:
    connection = names.of_path(path)
    return _connection_node(graph, connection) if connection else ""


# --- scripts -------------------------------------------------------------------------------


def _script_edges(
    graph: GraphSink, guid: str, script: str, includes, item_ids: dict[str, str], names
) -> None:
    app_node = identity.app_node_id(guid)
    internal = {"inline": 0, "autogenerate": 0, "resident": 0}
    for ref in script_references(script, includes=includes, dialect_of=names.dialect):
        evidence = {"statement": ref.statement, "line": ref.line}
        if ref.include:
            evidence["include"] = ref.include
        if ref.kind in internal:
            internal[ref.kind] += 1
        elif ref.kind == "connect":
            _connection_node(graph, names.resolve(ref.connection))
        elif ref.kind in ("load_file", "store"):
            node = graph.node(identity.file_node_id(ref.path), "file", ref.path, path=ref.path)
            graph.edge(_file_connection(graph, ref.path, names), node, "contains", SOURCE_SCRIPT, evidence)
            if ref.kind == "store":
                graph.edge(app_node, node, "stores", SOURCE_SCRIPT, evidence)
            else:
                graph.edge(node, app_node, "loads", SOURCE_SCRIPT, evidence)
        elif ref.kind == "load_sql":
            resolved = names.resolve(ref.connection)
            connection = _connection_node(graph, resolved)
            label = ".".join(part for part in ref.table if part)
            table = graph.node(
                identity.table_node_id(resolved.key, ref.table), "table", label, connection=resolved.label
            )
            graph.edge(connection, table, "contains", SOURCE_SCRIPT, evidence)
            graph.edge(table, app_node, "loads", SOURCE_SCRIPT, evidence)
        elif ref.kind == "binary" and (ref.path or identity.app_guid(ref.name, item_ids=item_ids)):
            if source_guid := identity.app_guid(ref.name, item_ids=item_ids):
                source = graph.node(identity.app_node_id(source_guid), "app", "", app_id=source_guid)
            else:
                source = graph.node(identity.file_node_id(ref.path), "file", ref.path, path=ref.path)
            graph.edge(source, app_node, "binary", SOURCE_SCRIPT, evidence)
        else:  # unresolved, or a binary of an app we do not know: kept with its line
            reason = ref.name
            if ref.kind == "binary":
                reason = f"binary of an app not in this project: {ref.name}"
            node = graph.node(
                identity.unresolved_node_id(guid, ref.line, ref.statement),
                "unresolved",
                ref.path or ref.statement[:120],
                reason=reason,
                line=ref.line,
                statement=ref.statement,
            )
            graph.edge(node, app_node, "unresolved", SOURCE_SCRIPT, evidence)
    graph.node(app_node, "app", "", internal_sources=internal)


# --- Qlik's lineage API --------------------------------------------------------------------

API_TYPES = (("app", "app"), ("connection", "connection"), ("datasource", "connection"), ("file", "file"))


def _api_node(graph: GraphSink, qri: str, node: Mapping, aliases, item_ids) -> tuple[str, str]:
    """The node id and type a lineage-API node stands for."""
    if guid := identity.app_guid(qri, item_ids=item_ids):
        return graph.node(identity.app_node_id(guid), "app", "", app_id=guid), "app"
    if qri in aliases:
        return aliases[qri]
    label = str(node.get("label") or "")
    if file_node := identity.file_node_id(label):
        return graph.node(file_node, "file", label, path=label, qri=qri), "file"
    metadata = node.get("metadata") if isinstance(node.get("metadata"), Mapping) else {}
    kind = f"{metadata.get('type', '')} {metadata.get('subtype', '')}".lower()
    node_type = next((mapped for word, mapped in API_TYPES if word in kind), "table")
    return graph.node(identity.qri_node_id(qri), node_type, label or qri, qri=qri), node_type


def _api_edges(graph: GraphSink, guid: str, lineage_graph: Mapping, aliases, item_ids) -> None:
    nodes = lineage_graph.get("nodes")
    edges = lineage_graph.get("edges")
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
        (source, _), (target, target_type) = ids[edge["source"]], ids[edge["target"]]
        relation = "loads" if target_type == "app" else str(edge.get("relation") or "flows")
        graph.edge(
            source,
            target,
            relation.lower()[:RELATION_LENGTH],
            SOURCE_API,
            {"statement": f"lineage graph of {guid}"},
        )
