"""Benchmark lineage questions on a synthetic graph, against networkx on the same graph.

Three ways are timed on the same questions, each answer checked against networkx: the
selector the API uses (the project's graph held in the process, keyed by a lineage digest
recorded on a sync run as a sync does), the level-by-level walk in the database (what
projects past the cache's bounds get) and one recursive SQL query, run as the runtime role
under RLS (raw SQL in a bench, on purpose: it prices the alternative that was not chosen).

The graph is layered like real lineage (connections → tables → extract apps → QVDs →
model apps → QVDs → dashboards ...) and local: each node feeds about ten nodes of the next
layer within a window, so a depth-5 neighbourhood holds hundreds of nodes, not the whole
graph. The report prints how many nodes a question reaches, so the numbers can be judged.
"""

import gc
import json
import os
import random
import time

import networkx as nx
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from rich.console import Console
from rich.table import Table

from atlas.bench import PeakRss, percentile, scratch_project, statistics_refresh
from atlas.rls import acting_as
from customers.models import User
from lineage.adjacency import adjacency_info
from lineage.models import LineageEdge, LineageNode
from lineage.selectors import DOWNSTREAM, UPSTREAM, lineage_neighbourhood, lineage_neighbourhood_database
from lineage.services import lineage_graph_replace
from qlik.models import QlikSyncRun
from qlik.sync.runs import sync_run_finish, sync_run_start

LAYERS = ("connection", "table", "app", "file", "app", "file", "app", "app")
WAYS = ("cached", "database", "recursive", "networkx")

# One statement: the walk (each (node, depth) once), then the reached nodes with their
# shortest depth and the edges leaving those closer than the depth, as two JSON arrays.
RECURSIVE_WALK = """
WITH RECURSIVE walk(node, depth) AS (
    SELECT %(start)s::varchar, 0
    UNION
    SELECT e.{far}, w.depth + 1
    FROM walk w JOIN lineage_edges e ON e.project_id = %(project)s AND e.{near} = w.node
    WHERE w.depth < %(depth)s
), reached AS (SELECT node, min(depth) AS depth FROM walk GROUP BY node)
SELECT
    (SELECT json_agg(json_build_array(n.node_id, n.type, n.label, n.app_id, r.depth))
     FROM reached r JOIN lineage_nodes n ON n.project_id = %(project)s AND n.node_id = r.node),
    (SELECT json_agg(json_build_array(
            e.source, e.target, e.relation, e.data -> 'sources', e.data -> 'evidence'))
     FROM reached r JOIN lineage_edges e ON e.project_id = %(project)s AND e.{near} = r.node
     WHERE r.depth < %(depth)s)
"""


def _recursive_walk(*, project, node_id: str, direction: str, depth: int) -> tuple[list, list]:
    near, far = ("target", "source") if direction == UPSTREAM else ("source", "target")
    with connection.cursor() as cursor:
        cursor.execute(
            RECURSIVE_WALK.format(near=near, far=far),
            {"start": node_id, "project": project.pk, "depth": depth},
        )
        nodes, edges = cursor.fetchone()
    return nodes or [], edges or []


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def synthetic_graph(*, nodes: int, edges: int, seed: int = 42) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)  # noqa: S311 (a benchmark's data, not a secret)
    per_layer = nodes // len(LAYERS)
    node_rows = [
        {"id": f"{kind}:{layer}-{position}", "type": kind, "label": f"{kind} {layer}-{position}"}
        for layer, kind in enumerate(LAYERS)
        for position in range(per_layer)
    ]
    fan_out = max(1, round(edges / (per_layer * (len(LAYERS) - 1))))
    window = max(fan_out, 8)
    edge_set: set[tuple[int, int, int]] = set()
    while len(edge_set) < edges:
        layer = rng.randrange(len(LAYERS) - 1)
        position = rng.randrange(per_layer)
        target = min(per_layer - 1, max(0, position + rng.randint(-window, window)))
        edge_set.add((layer, position, target))
    edge_rows = [
        {
            "source": f"{LAYERS[layer]}:{layer}-{position}",
            "target": f"{LAYERS[layer + 1]}:{layer + 1}-{target}",
            "relation": "loads" if LAYERS[layer + 1] == "app" else "stores",
            "sources": ["script"],
        }
        for layer, position, target in edge_set
    ]
    return node_rows, edge_rows


def _checked(answer) -> tuple[dict, int]:
    """A selector's answer as compared: nodes with their depths, and the edges' count."""
    return {n["id"]: n["depth"] for n in answer.nodes}, len(answer.edges)


def _check(expected: tuple, got: tuple, node: str, direction: str, way: str) -> None:
    if got != expected:
        raise RuntimeError(f"{direction} of {node}: networkx and the {way} walk disagree")


class Command(BaseCommand):
    help = "p50/p95 of depth-5 upstream/downstream through the API's selector, vs networkx in memory."

    def add_arguments(self, parser):
        parser.add_argument("--nodes", type=int, default=100_000)
        parser.add_argument("--edges", type=int, default=1_000_000)
        parser.add_argument("--questions", type=int, default=200)
        parser.add_argument("--depth", type=int, default=5)

    def handle(self, *args, **options):
        console = Console(file=self.stdout, width=170)
        system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
        nodes, edges = synthetic_graph(nodes=options["nodes"], edges=options["edges"])
        console.print(f"bench-lineage: {len(nodes):,} nodes, {len(edges):,} edges; loading…")
        graph = nx.DiGraph()
        graph.add_edges_from((edge["source"], edge["target"]) for edge in edges)
        reverse = graph.reverse(copy=False)
        rng = random.Random(7)  # noqa: S311
        # Ask from nodes in the middle layers, which have both an upstream and a downstream.
        middle = [
            node["id"] for node in nodes if node["id"].split(":")[1].split("-")[0] in {"2", "3", "4", "5"}
        ]
        starts = rng.sample(middle, options["questions"])
        depth = options["depth"]
        with scratch_project(actor=system, name="bench-lineage") as project:
            started = time.monotonic()
            with acting_as(system):
                lineage_graph_replace(project=project, nodes=nodes, edges=edges)
                # As a sync records it: the digest of what the graph was built from.
                run = sync_run_start(
                    project=project, trigger=QlikSyncRun.Trigger.COMMAND, requested_by=system
                )
                sync_run_finish(run=run, lineage_digest=f"bench-lineage-{len(nodes)}-{len(edges)}")
            store_seconds = time.monotonic() - started
            sizes = {"nodes": len(nodes), "edges": len(edges)}
            del nodes, edges, middle  # the bench's own million dicts are not the web process's
            gc.collect()
            statistics_refresh(LineageNode, LineageEdge)
            times = {way: {UPSTREAM: [], DOWNSTREAM: []} for way in WAYS}
            reached = {UPSTREAM: [], DOWNSTREAM: []}
            with acting_as(system):  # one request's worth of identity, like the API
                # The first question loads the graph into the process: timed apart.
                rss_before = _rss_mb()
                with PeakRss() as peak:
                    began = time.perf_counter()
                    lineage_neighbourhood(
                        project=project, node_id=starts[0], direction=DOWNSTREAM, depth=depth
                    )
                    first_seconds = time.perf_counter() - began
                load = {
                    "seconds": first_seconds,
                    "rss_peak_mb": peak.growth_mb,
                    "rss_kept_mb": _rss_mb() - rss_before,
                    **adjacency_info(),
                }
                if load["projects"] != 1:
                    raise RuntimeError("the graph was not cached: check LINEAGE_CACHE_* settings")
                # What is loaded stays: out of the collector's generations, as a web server
                # freezes what it preloads, so that neither way pays for collections that
                # traverse the other's (networkx's) millions of objects.
                gc.collect()
                gc.freeze()
                # Each way's timing depends on what ran just before it (the one before evicts
                # its data from the CPU caches), so networkx and the cached walk swap places
                # on every other question. The database walks run in a pass of their own
                # afterwards: between two in-memory walks, their allocations would price the
                # CPU caches they flush into whichever in-memory walk came next.
                expected = {}
                for number, node in enumerate(starts):
                    for direction, nx_graph in ((UPSTREAM, reverse), (DOWNSTREAM, graph)):

                        def networkx_walk(nx_graph=nx_graph, node=node):
                            found = nx.single_source_shortest_path_length(nx_graph, node, cutoff=depth)
                            walked = [
                                (u, v) for u in found if found[u] < depth for v in nx_graph.successors(u)
                            ]
                            return found, walked

                        ways = [
                            ("networkx", networkx_walk),
                            ("cached", lambda node=node, direction=direction: lineage_neighbourhood(
                                project=project, node_id=node, direction=direction, depth=depth
                            )),
                        ]  # fmt: skip
                        answers = {}
                        for way, walk in ways if number % 2 else ways[::-1]:
                            began = time.perf_counter()
                            answers[way] = walk()
                            times[way][direction].append(time.perf_counter() - began)
                        # Checked outside the timings: nodes with their depths, and the edges' count.
                        found, walked = answers["networkx"]
                        expected[node, direction] = (found, len(walked))
                        _check(
                            expected[node, direction], _checked(answers["cached"]), node, direction, "cached"
                        )
                        reached[direction].append(len(found))
                for node in starts:
                    for direction in (UPSTREAM, DOWNSTREAM):
                        began = time.perf_counter()
                        answer = lineage_neighbourhood_database(
                            project=project, node_id=node, direction=direction, depth=depth
                        )
                        times["database"][direction].append(time.perf_counter() - began)
                        _check(expected[node, direction], _checked(answer), node, direction, "database")
                        began = time.perf_counter()
                        rows, edge_rows = _recursive_walk(
                            project=project, node_id=node, direction=direction, depth=depth
                        )
                        times["recursive"][direction].append(time.perf_counter() - began)
                        answer = ({row[0]: row[4] for row in rows}, len(edge_rows))
                        _check(expected[node, direction], answer, node, direction, "recursive")
        self._report(console, sizes, store_seconds, load, depth, times, reached)

    def _report(self, console, sizes, store_seconds, load, depth, times, reached) -> None:
        table = Table(
            title=f"bench-lineage: {sizes['nodes']:,} nodes, {sizes['edges']:,} edges, depth {depth}"
        )
        for column in (
            "question",
            "nodes reached (mean)",
            "p50",
            "p95",
            "networkx p50",
            "networkx p95",
            "p95 ÷ networkx",
            "database walk p50 / p95",
            "one recursive query p50 / p95",
        ):
            table.add_column(column, justify="right")
        result = {}
        for direction in (UPSTREAM, DOWNSTREAM):
            p50, p95 = (
                percentile(times[way][direction], share) for way in ("cached",) for share in (0.5, 0.95)
            )
            n50, n95 = (
                percentile(times["networkx"][direction], 0.5),
                percentile(times["networkx"][direction], 0.95),
            )
            d50, d95 = (percentile(times["database"][direction], share) for share in (0.5, 0.95))
            r50, r95 = (percentile(times["recursive"][direction], share) for share in (0.5, 0.95))
            table.add_row(
                direction,
                f"{sum(reached[direction]) / len(reached[direction]):,.0f}",
                f"{p50 * 1000:.2f} ms",
                f"{p95 * 1000:.2f} ms",
                f"{n50 * 1000:.2f} ms",
                f"{n95 * 1000:.2f} ms",
                f"{p95 / n95:.2f}x",
                f"{d50 * 1000:.1f} / {d95 * 1000:.1f} ms",
                f"{r50 * 1000:.1f} / {r95 * 1000:.1f} ms",
            )
            result[direction] = {
                "p50_ms": round(p50 * 1000, 2),
                "p95_ms": round(p95 * 1000, 2),
                "networkx_p95_ms": round(n95 * 1000, 2),
                "p95_vs_networkx": round(p95 / n95, 2),
                "database_walk_p95_ms": round(d95 * 1000, 2),
                "recursive_query_p95_ms": round(r95 * 1000, 2),
            }
        console.print(table)
        console.print(
            f"graph held in the process: loaded by the first question in {load['seconds']:.1f} s; "
            f"{load['edges']:,} edges, {load['mb']:.0f} MB estimated, process memory "
            f"+{load['rss_kept_mb']:.0f} MB kept (+{load['rss_peak_mb']:.0f} MB at the peak of the load); "
            "bounds per process: "
            f"LINEAGE_CACHE_MAX_PROJECTS={settings.LINEAGE_CACHE_MAX_PROJECTS}, "
            f"LINEAGE_CACHE_MAX_MB={settings.LINEAGE_CACHE_MAX_MB}, "
            f"LINEAGE_CACHE_MAX_EDGES={settings.LINEAGE_CACHE_MAX_EDGES:,} per project"
        )
        console.print(f"graph stored through lineage_graph_replace in {store_seconds:.0f} s")
        worst = max((UPSTREAM, DOWNSTREAM), key=lambda direction: result[direction]["p95_vs_networkx"])
        headline = {
            "p95_vs_networkx": result[worst]["p95_vs_networkx"],
            "p95_ms": max(result[direction]["p95_ms"] for direction in (UPSTREAM, DOWNSTREAM)),
            "goal_p95_vs_networkx": 2.0,
            "nodes": sizes["nodes"],
            "edges": sizes["edges"],
            "depth": depth,
            "questions": len(reached[UPSTREAM]),
            **result,
            "cache_load_seconds": round(load["seconds"], 2),
            "cache_mb_estimated": round(load["mb"], 1),
            "cache_rss_kept_mb": round(load["rss_kept_mb"], 1),
            "cache_rss_peak_mb": round(load["rss_peak_mb"], 1),
            "store_seconds": round(store_seconds, 1),
        }
        self.stdout.write(f"BENCH-RESULT {json.dumps(headline)}")
