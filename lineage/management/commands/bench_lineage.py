"""Benchmark lineage questions on a synthetic graph, against networkx on the same graph.

The graph is layered like real lineage (connections → tables → extract apps → QVDs →
model apps → QVDs → dashboards ...) and local: each node feeds about ten nodes of the next
layer within a window, so a depth-5 neighbourhood holds hundreds of nodes, not the whole
graph. The report prints how many nodes a question reaches, so the numbers can be judged.
"""

import random
import time

import networkx as nx
from django.conf import settings
from django.core.management.base import BaseCommand
from rich.console import Console
from rich.table import Table

from atlas.bench import percentile, scratch_project, statistics_refresh
from atlas.rls import acting_as
from customers.models import User
from lineage.models import LineageEdge, LineageNode
from lineage.selectors import DOWNSTREAM, UPSTREAM, lineage_neighbourhood
from lineage.services import lineage_graph_replace

LAYERS = ("connection", "table", "app", "file", "app", "file", "app", "app")


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


class Command(BaseCommand):
    help = "p50/p95 of depth-5 upstream/downstream through the API's selector, vs networkx in memory."

    def add_arguments(self, parser):
        parser.add_argument("--nodes", type=int, default=100_000)
        parser.add_argument("--edges", type=int, default=1_000_000)
        parser.add_argument("--questions", type=int, default=200)
        parser.add_argument("--depth", type=int, default=5)

    def handle(self, *args, **options):
        console = Console(file=self.stdout)
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
            load_seconds = time.monotonic() - started
            statistics_refresh(LineageNode, LineageEdge)
            ours = {UPSTREAM: [], DOWNSTREAM: []}
            theirs = {UPSTREAM: [], DOWNSTREAM: []}
            reached = {UPSTREAM: [], DOWNSTREAM: []}
            with acting_as(system):  # one request's worth of identity, like the API
                for node in starts:
                    for direction, nx_graph in ((UPSTREAM, reverse), (DOWNSTREAM, graph)):
                        began = time.perf_counter()
                        answer = lineage_neighbourhood(
                            project=project, node_id=node, direction=direction, depth=depth
                        )
                        ours[direction].append(time.perf_counter() - began)
                        began = time.perf_counter()
                        found = nx.single_source_shortest_path_length(nx_graph, node, cutoff=depth)
                        walked = [(u, v) for u in found if found[u] < depth for v in nx_graph.successors(u)]
                        theirs[direction].append(time.perf_counter() - began)
                        if len(found) != len(answer.nodes) or len(walked) != len(answer.edges):
                            raise RuntimeError(f"{direction} of {node}: networkx and the selector disagree")
                        reached[direction].append(len(answer.nodes))
        self._report(console, nodes, edges, load_seconds, depth, ours, theirs, reached)

    def _report(self, console, nodes, edges, load_seconds, depth, ours, theirs, reached) -> None:
        table = Table(title=f"bench-lineage: {len(nodes):,} nodes, {len(edges):,} edges, depth {depth}")
        for column in (
            "question",
            "nodes reached (mean)",
            "p50",
            "p95",
            "networkx p50",
            "networkx p95",
            "p50 ÷ networkx",
        ):
            table.add_column(column, justify="right")
        for direction in (UPSTREAM, DOWNSTREAM):
            p50, p95 = percentile(ours[direction], 0.5), percentile(ours[direction], 0.95)
            n50, n95 = percentile(theirs[direction], 0.5), percentile(theirs[direction], 0.95)
            table.add_row(
                direction,
                f"{sum(reached[direction]) / len(reached[direction]):,.0f}",
                f"{p50 * 1000:.1f} ms",
                f"{p95 * 1000:.1f} ms",
                f"{n50 * 1000:.2f} ms",
                f"{n95 * 1000:.2f} ms",
                f"{p50 / n50:.0f}x",
            )
        console.print(table)
        console.print(f"graph stored through lineage_graph_replace in {load_seconds:.0f} s")
