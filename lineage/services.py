"""Writes for the lineage graph of a project."""

import functools
import hashlib
import json
import math
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from django.contrib.postgres.aggregates import StringAgg
from django.db import transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KT, KeyTransform
from django.db.models.functions import MD5, Cast, Coalesce, Concat, Lower

from atlas.bulk import StagedUpsert, staged_update
from atlas.iterables import batched
from customers.models import Project
from lineage.graph import DATA_FILE, LineageGraphBuilder, SpooledLineageGraph
from lineage.models import LineageEdge, LineageNode
from qlik.models import QlikApp, QlikAppScript, QlikDataConnection, QlikDataset, QlikSpace

BATCH_SIZE = 2000
# Labels are searched by full text, whose tsvector must stay under 1 MB; the whole text of a
# longer one is still in `data`.
MAX_LABEL = 100_000
APPS_PER_PARTITION = 500  # a partition of the spooled graph holds a few MB of contributions
DATASETS_PER_APP = 50  # a data file is one small node; an app, dozens of contributions
MAX_PARTITIONS = 256  # open files at once


# The graph also depends on the code that builds it: a new parser rebuilds unchanged inputs.
BUILDER_MODULES = ("graph.py", "identity.py", "script_parser.py")
CONNECTION_FIELDS = ("connection_id", "qName", "qri", "qType", "datasourceID", "space")
DATASET_FIELDS = (
    "dataset_id",
    "name",
    "resourceSubType",
    "spaceId",
    "qri",
    "secureQri",
    "technicalName",
    "dataStoreType",
    "size",
    "updatedAt",
)


@functools.cache
def _builder_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in BUILDER_MODULES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def lineage_inputs_digest(*, project: Project, includes: Mapping[str, str] | None = None) -> str:
    """SHA-256 of everything the project's graph is built from: each app's GUID, name, item
    id, reload metadata and lineage-API answer, the scripts, the data files, the data
    connections and spaces, the include files and the builder's code. One aggregate query
    per large table; one MD5 per row is summed up in the database, so no app, script or
    data-file row comes to Python."""
    separator = Value("\x1f")
    app_rows = MD5(
        Concat(
            "app_id",
            separator,
            "appName",
            separator,
            KT("data__item__id"),  # not the whole item: its view counts change every day
            separator,
            Cast(KeyTransform("reloadMetadata", "data"), TextField()),
            separator,
            Cast(KeyTransform("lineageGraph", "data"), TextField()),
            output_field=TextField(),
        )
    )
    script_rows = MD5(Concat("app_id", separator, "script", output_field=TextField()))
    apps = QlikApp.objects.filter(project=project).aggregate(
        digest=StringAgg(app_rows, delimiter=",", order_by="app_id")
    )
    scripts = QlikAppScript.objects.filter(project=project).aggregate(
        digest=StringAgg(script_rows, delimiter=",", order_by="app_id")
    )
    dataset_rows = MD5(
        Concat(
            *(
                part
                for name in DATASET_FIELDS
                for part in (
                    Coalesce(Cast(name, TextField()), Value(""), output_field=TextField()),
                    separator,
                )
            ),
            output_field=TextField(),
        )
    )
    datasets = QlikDataset.objects.filter(project=project).aggregate(
        digest=StringAgg(dataset_rows, delimiter=",", order_by="dataset_id")
    )
    connections = list(
        QlikDataConnection.objects.filter(project=project)
        .order_by("connection_id")
        .values_list(*CONNECTION_FIELDS)
    )
    spaces = list(
        QlikSpace.objects.filter(project=project).order_by("space_id").values_list("space_id", "spaceName")
    )
    material = [
        _builder_fingerprint(),
        apps["digest"],
        scripts["digest"],
        datasets["digest"],
        connections,
        spaces,
        sorted((includes or {}).items()),
    ]
    return hashlib.sha256(json.dumps(material, default=str).encode()).hexdigest()


@transaction.atomic
def lineage_project_refresh(
    *, project: Project, includes: Mapping[str, str] | None = None, previous_digest: str = ""
) -> tuple[dict[str, int], str]:
    """Rebuild the project's graph unless nothing it is built from changed since the graph
    whose inputs digested to `previous_digest`; returns the counts and the new digest.

    Most nightly syncs change usage and little else: they keep the graph for the price of
    the digest instead of parsing every script again.
    """
    digest = lineage_inputs_digest(project=project, includes=includes)
    if previous_digest and digest == previous_digest:
        kept = {
            "lineage_nodes": LineageNode.objects.filter(project=project).count(),
            "lineage_edges": LineageEdge.objects.filter(project=project).count(),
        }
        return kept, digest
    return lineage_project_rebuild(project=project, includes=includes), digest


@transaction.atomic
def lineage_project_rebuild(*, project: Project, includes: Mapping[str, str] | None = None) -> dict[str, int]:
    """Rebuild the project's graph from what the sync stored: scripts, reload metadata and
    Qlik's lineage-graph answers kept on each app, the data connections and spaces (by
    which scripts name connections and data files) and the data files of the catalog
    (each a node, read or not, whichever way a source names it).

    Runs in the caller's transaction (the sync's storage transaction), so the graph always
    matches the snapshot beside it. `includes` maps include-file paths to their text.
    Streams: each source is read in chunks, the graph is spooled to disk in partitions and
    merged and written one partition at a time, so memory does not grow with the graph; the
    builder keeps only what names things (an entry per app, connection, space, data file
    and QRI). Ids of any length are stored: long ones are bounded by `identity.bounded`.
    """
    apps = QlikApp.objects.filter(project=project)
    datasets = QlikDataset.objects.filter(project=project, resourceSubType=DATA_FILE)
    weight = apps.count() + datasets.count() / DATASETS_PER_APP
    partitions = min(MAX_PARTITIONS, math.ceil(weight / APPS_PER_PARTITION) or 1)
    connections = [
        {
            "id": connection_id,
            "qName": name,
            "qri": qri,
            "qType": kind,
            "datasourceID": source,
            "space": space,
        }
        for connection_id, name, qri, kind, source, space in QlikDataConnection.objects.filter(
            project=project
        ).values_list(*CONNECTION_FIELDS)
    ]
    spaces = dict(QlikSpace.objects.filter(project=project).values_list("space_id", "spaceName"))
    with tempfile.TemporaryDirectory(prefix="lineage-") as directory:
        spool = SpooledLineageGraph(directory, partitions)
        builder = LineageGraphBuilder(spool, connections=connections, includes=includes, spaces=spaces)
        # Only the JSON keys each stage needs, not the whole stored objects.
        for guid, name, item_id in _stream(apps.values_list("app_id", "appName", "data__item__id"), "app_id"):
            builder.app(guid, name, str(item_id or ""))
        for dataset in _stream(datasets.values(*DATASET_FIELDS), "dataset_id"):
            builder.dataset(dataset)
        for guid, metadata in _stream(apps.values_list("app_id", "data__reloadMetadata"), "app_id"):
            builder.reload_metadata(guid, metadata)
        # (Not joined to the apps: the builder skips scripts of apps it was not given, and a
        # semi-join planned on statistics older than this transaction's rows loops n².)
        scripts = QlikAppScript.objects.filter(project=project)
        for guid, script in _stream(scripts.values_list("app_id", "script"), "app_id"):
            builder.script(guid, script)
        for guid, lineage_graph in _stream(apps.values_list("app_id", "data__lineageGraph"), "app_id"):
            builder.lineage_api(guid, lineage_graph)
        # Staged, then one upsert and one delete per table (atlas.bulk): a rebuild after a
        # small change writes the nodes and edges that changed, not the whole graph again.
        nodes = StagedUpsert(
            LineageNode, key=("project", "node_id"), update=("type", "label", "app_id", "data")
        )
        edges = StagedUpsert(
            LineageEdge, key=("project", "edge_id"), update=("source", "target", "relation", "data")
        )
        counts = {"lineage_nodes": 0, "lineage_edges": 0}
        for partition in spool.partitions():
            counts["lineage_nodes"] += nodes.add(
                _node_row(project, node) for node in partition.nodes.values()
            )
            counts["lineage_edges"] += edges.add(
                _edge_row(project, edge) for edge in partition.edges.values()
            )
        # A node is merged in exactly one partition, so no node id is staged twice; two edges
        # may share an id ("a->b" + "c" and "a" + "b->c"), so theirs keep the last copy.
        edges.apply(delete_scope={"project": project.pk})
        nodes.apply(delete_scope={"project": project.pk}, unique=True)
        counts["rows_written"] = sum(w.written + w.deleted for w in (nodes.result, edges.result))
        counts["write_seconds"] = nodes.result.seconds + edges.result.seconds
    _app_lineage_summary_refresh(project=project, without_source=builder.apps_without_source)
    return counts


def _stream(rows, key: str):
    """Rows in key order (the unique index's): the order contributions reach a node or edge
    decides the order of its evidence, so a rebuild from the same inputs must read them in
    the same order, or it would rewrite rows whose only change is that order."""
    return rows.order_by(key).iterator(chunk_size=BATCH_SIZE)


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
        "lineage_nodes": _rows_insert(LineageNode, project, nodes, _node),
        "lineage_edges": _rows_insert(LineageEdge, project, edges, _edge),
    }
    without_source = []
    if fetched is not None:
        app_ids = QlikApp.objects.filter(project=project).values_list("app_id", flat=True).order_by()
        without_source = [app_id for app_id in app_ids.iterator() if app_id.lower() not in fetched]
    _app_lineage_summary_refresh(project=project, without_source=without_source)
    return counts


def _graph_delete(*, project: Project) -> None:
    LineageEdge.objects.filter(project=project).delete()
    LineageNode.objects.filter(project=project).delete()


def _rows_insert(model, project: Project, rows: Iterable[dict], build) -> int:
    """bulk_create in batches: it makes a list of its input, and a graph may have a million edges."""
    count = 0
    for batch in batched(rows, BATCH_SIZE):
        model.objects.bulk_create([build(project, row) for row in batch])
        count += len(batch)
    return count


def _node_row(project: Project, node: dict) -> dict:
    """A node's row as field values (what the bulk write path takes)."""
    return {
        "project_id": project.pk,
        "node_id": node["id"],
        "type": node["type"],
        "label": (node.get("label") or "")[:MAX_LABEL],
        "app_id": node.get("app_id"),
        "data": node,
    }


def _edge_row(project: Project, edge: dict) -> dict:
    return {
        "project_id": project.pk,
        "edge_id": f"{edge['source']}->{edge['target']}",
        "source": edge["source"],
        "target": edge["target"],
        "relation": edge.get("relation", ""),
        "data": edge,
    }


def _node(project: Project, node: dict) -> LineageNode:
    return LineageNode(**_node_row(project, node))


def _edge(project: Project, edge: dict) -> LineageEdge:
    return LineageEdge(**_edge_row(project, edge))


def _edge_count(*conditions, **filters):
    """The number of the project's edges matching the filters (OuterRefs to the app row)."""
    edges = (
        LineageEdge.objects.filter(*conditions, project_id=OuterRef("project_id"), **filters)
        .order_by()
        .values("project_id")
        .annotate(count=Count("row_id"))
        .values("count")
    )
    return Coalesce(Subquery(edges), 0)


def _app_lineage_summary_refresh(*, project: Project, without_source: Iterable[str]) -> None:
    """Set rootNodeId/edgesCount/nodesCount/lineageFetched/lineageSuccess on every app
    whose values changed (one UPDATE).

    rootNodeId: the app's node; edgesCount: edges touching it; nodesCount: it and its
    distinct neighbours; lineageFetched: a source (script, reload metadata, lineage API)
    was there to read; lineageSuccess: it has a node, was fetched, and no `unresolved` edge
    leads into it. A set-based UPDATE whose subqueries probe the (project_id, node_id|source|
    target) indexes per app: no row comes to Python, and the plan stays cheap right after a
    bulk load, before statistics catch up. `without_source`: app ids (as stored) that had
    nothing to read. Only apps whose summary changed are written.
    """
    apps = QlikApp.objects.filter(project=project)
    # First each app's would-be node id (identity.app_node_id in SQL) in its own column,
    # written only where it differs; then every lookup keyed on that column: a subquery
    # keyed on the expression instead was planned as a scan per app (3 ms an app). Under
    # RLS only a leakproof qual such as `column = value` may use an index inside the
    # policy's security barrier (lower() and || are not leakproof). Correlated subqueries,
    # not joins, so each is an index probe per app even when the planner, its statistics
    # older than the rows this transaction wrote, believes the table holds one row.
    would_be = Concat(Value("app:"), Lower("app_id"), output_field=TextField())
    apps.exclude(rootNodeId=would_be).update(rootNodeId=would_be)
    node_id = OuterRef("rootNodeId")
    node = Exists(LineageNode.objects.filter(project_id=OuterRef("project_id"), node_id=node_id))
    outgoing = _edge_count(source=node_id)
    incoming = _edge_count(target=node_id)
    # Edges are unique per (source, target): neighbours = out + in - those linked both ways.
    reverse = LineageEdge.objects.filter(
        project_id=OuterRef("project_id"), source=OuterRef("target"), target=OuterRef("source")
    )
    both_ways = _edge_count(Exists(reverse), source=node_id)
    unresolved = Exists(
        LineageEdge.objects.filter(project_id=OuterRef("project_id"), target=node_id, relation="unresolved")
    )
    # (The Django connection binds parameters client-side: any number of ids fits.)
    without = list(without_source)
    fetched = ~Q(app_id__in=without) if without else Q(pk__isnull=False)
    summary = apps.annotate(
        new_root=Case(When(node, then="rootNodeId"), default=Value(""), output_field=TextField()),
        new_edges=Case(When(node, then=outgoing + incoming), default=0),
        new_nodes=Case(When(node, then=outgoing + incoming - both_ways + 1), default=0),
        new_fetched=ExpressionWrapper(fetched, output_field=BooleanField()),
        new_success=ExpressionWrapper(Q(node) & ~Q(unresolved) & fetched, output_field=BooleanField()),
    )
    # Computed by one read whose subqueries sit in its SELECT list (index probes per app, as
    # said above), then written by one staged UPDATE of the apps whose summary changed: a
    # rebuild after a small change rewrites the few apps it touched, not every app. (The
    # same subqueries in an UPDATE's WHERE clause were planned as scans: 8 s for 1,000 apps.)
    summary_fields = ("rootNodeId", "edgesCount", "nodesCount", "lineageSuccess", "lineageFetched")
    computed = summary.values_list(
        "app_id", "new_root", "new_edges", "new_nodes", "new_success", "new_fetched"
    )
    staged_update(
        QlikApp,
        key=("project", "app_id"),
        fields=summary_fields,
        rows=(
            dict(zip(("project", "app_id", *summary_fields), (project.pk, *values), strict=True))
            for values in computed.order_by().iterator(chunk_size=BATCH_SIZE)
        ),
    )
