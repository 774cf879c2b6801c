"""The interactive lineage graph page, per project and per node."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from lineage import selectors
from qlik.views import project_or_404


@login_required
def lineage_graph_page(request, project_id: int):
    """`?node=<id>`: its upstream and downstream; without: the project's graph (bounded)."""
    project = project_or_404(project_id)
    node_id = request.GET.get("node", "").strip()
    depth = selectors.lineage_depth_clamp(_int(request.GET.get("depth")))
    if node_id:
        try:
            graph = selectors.lineage_both_ways(project=project, node_id=node_id, depth=depth)
        except selectors.LineageNodeNotFound:
            raise Http404("No such node in this project.")
    else:
        graph = selectors.lineage_project_graph(project=project, limit=settings.LINEAGE_PAGE_MAX_NODES)
    context = {"project": project, "node_id": node_id, "depth": depth, "graph": graph}
    return render(request, "lineage/graph.html", context)


def _int(value: str | None) -> int | None:
    # isdigit() is also true of "²" and other Unicode digits, which int() refuses (a 500).
    return int(value) if value and value.isascii() and value.isdigit() else None
