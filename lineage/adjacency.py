"""A project's lineage graph held in the web process, so walks run at memory speed.

Each cached graph is keyed by the project's lineage digest (that of its last successful
sync: the SHA-256 of everything the graph is built from, so an equal digest is an equal
graph; a forced rebuild of unchanged inputs keeps it): loaded on first use, dropped when
the digest changes,
and evicted least recently used beyond LINEAGE_CACHE_MAX_PROJECTS graphs or
LINEAGE_CACHE_MAX_MB estimated megabytes in the process. A project of more than
LINEAGE_CACHE_MAX_EDGES edges is never loaded: it is walked in the database.

The cache holds no access decision. The caller asks for the digest through RLS on every
request, as the user, and only a digest it was given can reach a graph; a user who may not
see the project gets no digest, so never a cached graph. A sync commits the rebuilt graph
a moment before it records the run's digest: in between, the graph of the previous digest
still answers, as the rest of the portal shows the last successful sync.

Compact on purpose: node ids are integers; the edges are two CSR arrays (out and in) of
32-bit integers; node types and each edge's relation and sources are small codes into
tuples; each edge's evidence is kept as its JSON text (deduplicated) and parsed only when
walked. About 20 bytes per edge, and the node ids' and labels' strings per node.
"""

import json
import sys
import threading
import time
from array import array
from collections import OrderedDict

from django.conf import settings
from django.db.models import TextField
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast

from customers.models import Project
from lineage.models import LineageEdge, LineageNode

UPSTREAM, DOWNSTREAM = "upstream", "downstream"
NO_ROW = 255  # node type code of an id that edges name but no node row holds
CHUNK = 20_000
EVIDENCE_MEMO = 50_000  # parsed evidence lists kept per graph (real edges each have their own)


class ProjectAdjacency:
    """One project's graph as integer arrays; `walk` answers like the database walk."""

    def __init__(self, *, project_id: int, digest: str) -> None:
        self.project_id = project_id
        self.digest = digest
        self.node_ids: list[str] = []
        self.index: dict[str, int] = {}
        self.types = array("B")
        self.type_names: list[str] = []
        self.labels: list[str | None] = []  # None: the label is the id (or empty)
        self.app_ids: list[str | None] = []
        self.load_seconds = 0.0
        self.nbytes = 0
        self._evidence_memo: dict[int, tuple] = {}

    # --- loading --------------------------------------------------------------------------------

    @classmethod
    def load(cls, *, project: Project, digest: str) -> "ProjectAdjacency":
        """Read the project's nodes and edges (two streamed queries) into arrays."""
        started = time.perf_counter()
        graph = cls(project_id=project.pk, digest=digest)
        type_codes: dict[str, int] = {}
        nodes = LineageNode.objects.filter(project=project).order_by()
        for node_id, node_type, label, app_id in nodes.values_list(
            "node_id", "type", "label", "app_id"
        ).iterator(chunk_size=CHUNK):
            graph.index[node_id] = len(graph.node_ids)
            graph.node_ids.append(node_id)
            graph.types.append(type_codes.setdefault(node_type, len(type_codes)))
            graph.labels.append(label if label and label != node_id else None)
            graph.app_ids.append(app_id)
        graph.type_names = list(type_codes)
        graph._edges_load(project)
        graph.load_seconds = time.perf_counter() - started
        graph.nbytes = graph._size()
        return graph

    def _node(self, node_id: str) -> int:
        """The index of `node_id`, added without a row when only edges name it."""
        number = self.index.get(node_id)
        if number is None:
            number = self.index[node_id] = len(self.node_ids)
            self.node_ids.append(node_id)
            self.types.append(NO_ROW)
            self.labels.append(None)
            self.app_ids.append(None)
        return number

    def _edges_load(self, project: Project) -> None:
        sources, targets, kinds, evidences = array("i"), array("i"), array("I"), array("i")
        kind_codes: dict[tuple[str, str | None], int] = {}  # (relation, sources as JSON text)
        evidence_codes: dict[str | None, int] = {}
        rows = (
            LineageEdge.objects.filter(project=project)
            .order_by()
            .annotate(
                origins=Cast(KeyTransform("sources", "data"), TextField()),
                evidence=Cast(KeyTransform("evidence", "data"), TextField()),
            )
            .values_list("source", "target", "relation", "origins", "evidence")
        )
        for source, target, relation, origin, evidence in rows.iterator(chunk_size=CHUNK):
            sources.append(self._node(source))
            targets.append(self._node(target))
            kinds.append(kind_codes.setdefault((relation, origin), len(kind_codes)))
            evidences.append(evidence_codes.setdefault(evidence, len(evidence_codes)))
        self.kind_relations = [relation for relation, _ in kind_codes]
        self.kind_origins = [tuple(json.loads(origin)) if origin else () for _, origin in kind_codes]
        self.evidence_texts = [text.encode() if text else b"[]" for text in evidence_codes]
        self.no_evidence = next((n for n, text in enumerate(self.evidence_texts) if text == b"[]"), -1)
        nodes = len(self.node_ids)
        # Two CSRs, each with the edges' attributes in its own order, so that a walk either
        # way reads contiguous slices (kind and evidence codes kept in both: 6 bytes an edge).
        wide = len(kind_codes) >= 2**16  # few kinds (a relation and its sources): two bytes each
        self.out_start, self.out_to, self.out_kinds, self.out_evidences = _csr(
            sources, targets, kinds, evidences, nodes, wide=wide
        )
        self.in_start, self.in_from, self.in_kinds, self.in_evidences = _csr(
            targets, sources, kinds, evidences, nodes, wide=wide
        )

    def _size(self) -> int:
        """Estimated bytes held: arrays, strings, the id index and the lists."""
        size = sum(
            part.itemsize * len(part) + 64
            for part in (
                self.types,
                self.out_start,
                self.out_to,
                self.out_kinds,
                self.out_evidences,
                self.in_start,
                self.in_from,
                self.in_kinds,
                self.in_evidences,
            )
        )
        size += sys.getsizeof(self.index) + sum(
            sys.getsizeof(lst) for lst in (self.node_ids, self.labels, self.app_ids, self.evidence_texts)
        )
        size += sum(sys.getsizeof(text) for text in self.node_ids)
        size += sum(sys.getsizeof(text) for text in self.labels if text is not None)
        size += sum(sys.getsizeof(text) for text in self.app_ids if text is not None)
        size += sum(sys.getsizeof(text) for text in self.evidence_texts)
        return size

    @property
    def edges(self) -> int:
        return len(self.out_to)

    # --- walking --------------------------------------------------------------------------------

    def walk(self, *, node_id: str, direction: str, depth: int) -> tuple[list[dict], list[dict]] | None:
        """Nodes within `depth` hops (each once, at its shortest distance; the start first) and
        every edge leaving a node closer than `depth`: the database walk's answer. None when
        the project has no node row `node_id`."""
        start = self.index.get(node_id)
        if start is None or self.types[start] == NO_ROW:
            return None
        downstream = direction == DOWNSTREAM
        if downstream:
            starts, near, kinds, evidences = self.out_start, self.out_to, self.out_kinds, self.out_evidences
        else:
            starts, near, kinds, evidences = self.in_start, self.in_from, self.in_kinds, self.in_evidences
        ids = self.node_ids
        relation_of, origins_of = self.kind_relations, self.kind_origins
        evidence, none = self._evidence, self.no_evidence
        distance = {start: 0}
        frontier = [start]
        edges: list[dict] = []
        # Each edge a dict of its own (callers may add to it); its sources and evidence are
        # tuples shared with the graph, immutable, so no list is copied per edge. Comprehensions
        # per node: the fastest way CPython builds them.
        for level in range(1, depth + 1):
            if not frontier:
                break
            found = []
            for node in frontier:
                first, last = starts[node], starts[node + 1]
                if first == last:
                    continue
                here, others = ids[node], near[first:last]
                attributes = zip(others, kinds[first:last], evidences[first:last], strict=True)
                if downstream:
                    edges += [
                        {
                            "source": here,
                            "target": ids[other],
                            "relation": relation_of[kind],
                            "sources": origins_of[kind],
                            "evidence": () if code == none else evidence(code),
                        }
                        for other, kind, code in attributes
                    ]
                else:
                    edges += [
                        {
                            "source": ids[other],
                            "target": here,
                            "relation": relation_of[kind],
                            "sources": origins_of[kind],
                            "evidence": () if code == none else evidence(code),
                        }
                        for other, kind, code in attributes
                    ]
                for other in others:
                    if other not in distance:
                        distance[other] = level
                        found.append(other)
            frontier = found
        labels, app_ids, types, names = self.labels, self.app_ids, self.types, self.type_names
        nodes = [
            {
                "id": ids[node],
                "type": names[types[node]],
                "label": labels[node] or ids[node],
                "app_id": app_ids[node],
                "depth": level,
            }
            for node, level in distance.items()
            if types[node] != NO_ROW
        ]
        return nodes, edges

    def _evidence(self, code: int) -> tuple:
        parsed = self._evidence_memo.get(code)
        if parsed is None:
            if len(self._evidence_memo) >= EVIDENCE_MEMO:
                self._evidence_memo.clear()
            parsed = self._evidence_memo[code] = tuple(json.loads(self.evidence_texts[code]))
        return parsed


def _csr(keys: array, others: array, kinds: array, evidences: array, nodes: int, *, wide: bool) -> tuple:
    """Edges grouped by `keys` (compressed sparse rows): the start of each node's run, then
    the other end, kind and evidence code of each edge in that order."""
    edges = len(keys)
    starts = _starts(keys, nodes)
    cursor = array("i", starts)
    other_of = array("i", bytes(4 * edges))
    kind_of = array("I" if wide else "H", bytes(edges * (4 if wide else 2)))
    evidence_of = array("i", bytes(4 * edges))
    for edge in range(edges):
        key = keys[edge]
        at = cursor[key]
        cursor[key] = at + 1
        other_of[at] = others[edge]
        kind_of[at] = kinds[edge]
        evidence_of[at] = evidences[edge]
    return starts, other_of, kind_of, evidence_of


def _starts(keys: array, nodes: int) -> array:
    """CSR offsets: entries of node n are at [starts[n], starts[n + 1])."""
    starts = array("i", bytes(4 * (nodes + 1)))
    for key in keys:
        starts[key + 1] += 1
    running = 0
    for number in range(nodes + 1):
        running += starts[number]
        starts[number] = running
    return starts


class _TooLarge:
    """Remembers that the project's graph at `digest` is walked in the database."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        self.nbytes = 0


_lock = threading.Lock()
_graphs: "OrderedDict[int, ProjectAdjacency | _TooLarge]" = OrderedDict()
_loading: set[int] = set()


def adjacency_get(*, project: Project, digest: str, recheck) -> ProjectAdjacency | None:
    """The project's graph at `digest`, loaded on first use; None: walk in the database.

    `digest` must come from an RLS query made as the requesting user in this request.
    `recheck()` reads the digest again after a load: a sync that committed meanwhile makes
    the load unusable (the database answers; the next request loads again). While one
    thread loads a project, the others walk in the database rather than wait or load twice.
    """
    if not digest or settings.LINEAGE_CACHE_MAX_PROJECTS <= 0:
        return None
    with _lock:
        entry = _graphs.get(project.pk)
        if entry is not None and entry.digest == digest:
            _graphs.move_to_end(project.pk)
            return entry if isinstance(entry, ProjectAdjacency) else None
        if project.pk in _loading:
            return None
        _loading.add(project.pk)
        _graphs.pop(project.pk, None)  # a graph of another digest is dropped at once
    try:
        if LineageEdge.objects.filter(project=project).count() > settings.LINEAGE_CACHE_MAX_EDGES:
            graph = _TooLarge(digest)
        else:
            graph = ProjectAdjacency.load(project=project, digest=digest)
            if graph.nbytes > settings.LINEAGE_CACHE_MAX_MB * 2**20:
                graph = _TooLarge(digest)
        if recheck() != digest:
            return None
        with _lock:
            _graphs[project.pk] = graph
            _evict(keep=project.pk)
    finally:
        with _lock:
            _loading.discard(project.pk)
    return graph if isinstance(graph, ProjectAdjacency) else None


def _evict(*, keep: int) -> None:
    """Least recently used first, down to the settings' bounds (called holding the lock)."""
    limit = settings.LINEAGE_CACHE_MAX_MB * 2**20
    while len(_graphs) > 1:
        loaded = [entry for entry in _graphs.values() if isinstance(entry, ProjectAdjacency)]
        if len(loaded) <= settings.LINEAGE_CACHE_MAX_PROJECTS and sum(g.nbytes for g in loaded) <= limit:
            break
        oldest = next(iter(_graphs))
        if oldest == keep:
            break
        del _graphs[oldest]
    # Markers of too-large graphs cost nothing but are bounded too.
    while len(_graphs) > 4 * max(1, settings.LINEAGE_CACHE_MAX_PROJECTS):
        _graphs.popitem(last=False)


def adjacency_info() -> dict:
    """What the process holds: projects, edges and estimated megabytes (for benches, ops)."""
    with _lock:
        loaded = [entry for entry in _graphs.values() if isinstance(entry, ProjectAdjacency)]
        return {
            "projects": len(loaded),
            "edges": sum(graph.edges for graph in loaded),
            "mb": sum(graph.nbytes for graph in loaded) / 2**20,
        }


def adjacency_clear() -> None:
    with _lock:
        _graphs.clear()
