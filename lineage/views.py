"""The lineage pages: the interactive graph, a node's own page, and impact analysis."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from lineage import selectors
from lineage.models import LineageNode
from qlik import selectors as qlik
from qlik.views.common import csv_response, int_param, param, project_context, project_or_404


@login_required
def lineage_graph_page(request, project_id: int):
    """`?node=<id>`: its upstream and downstream; without: the project's graph (bounded)."""
    project = project_or_404(project_id)
    node_id = param(request, "node")
    depth = selectors.lineage_depth_clamp(int_param(request, "depth"))
    node = None
    if node_id:
        try:
            node = selectors.lineage_node_get(project=project, node_id=node_id)
            graph = selectors.lineage_both_ways(project=project, node_id=node_id, depth=depth)
        except selectors.LineageNodeNotFound:
            raise Http404("No such node in this project.")
    else:
        graph = selectors.lineage_project_graph(project=project, limit=settings.LINEAGE_PAGE_MAX_NODES)
    context = {**project_context(project), "node_id": node_id, "node": node, "depth": depth, "graph": graph}
    context["graph_types"] = LineageNode.NodeType.values  # the graph's type filters
    return render(request, "lineage/graph.html", context)


@login_required
def node_page(request, project_id: int):
    """`?id=<node id>`: a file's or table's page — who writes it, who reads it, its catalog
    entry (the dataset) where there is one. Apps and listed connections have pages of their
    own, to which their nodes lead."""
    project = project_or_404(project_id)
    node_id = param(request, "id")
    try:
        node = selectors.lineage_node_get(project=project, node_id=node_id)
    except selectors.LineageNodeNotFound:
        raise Http404("No such node in this project.")
    data = node.data or {}
    if node.type == LineageNode.NodeType.APP and node.app_id:
        return redirect("app-page", project_id=project.pk, app_id=node.app_id)
    if node.type == LineageNode.NodeType.CONNECTION and data.get("connection_id"):
        return redirect("connection-page", project_id=project.pk, connection_id=data["connection_id"])
    io = selectors.lineage_node_io(project=project, node_id=node.node_id)
    dataset = (
        qlik.dataset_list(project=project).filter(dataset_id=data["dataset_id"]).first()
        if data.get("dataset_id")
        else None
    )
    space_id = data.get("space_id") or (dataset.spaceId if dataset else "")
    space = qlik.space_list(project=project).filter(space_id=space_id).first() if space_id else None
    unresolved_app = None
    if node.type == LineageNode.NodeType.UNRESOLVED:
        guid = node.node_id.split(":")[1] if node.node_id.count(":") >= 2 else ""
        unresolved_app = selectors.lineage_apps(project=project, app_ids=[guid]).get(guid) or {"app_id": guid}
    context = {
        **project_context(project),
        "node": node,
        "data": data,
        "io": io,
        "writers": [n for n in io["sources"] if n["type"] == "app"],
        "containers": [n for n in io["sources"] if n["type"] != "app"],
        "readers": [n for n in io["outputs"] if n["type"] == "app"],
        "dataset": dataset,
        "space": space,
        "unresolved_app": unresolved_app,
    }
    return render(request, "lineage/node_page.html", context)


IMPACT_CSV = [
    "depth",
    "node_id",
    "type",
    "name",
    "app_id",
    "owner_name",
    "space_name",
    "usage_classification",
    "last_viewed_at",
    "used_in_window",
]


@login_required
def impact_page(request, project_id: int):
    """`?node=<id>`: everything downstream, by depth, each app with owner, space, usage and
    last view — what breaks, and who will notice. `?q=`: find the node first."""
    project = project_or_404(project_id)
    node_id = param(request, "node")
    query = param(request, "q", 200)
    depth = selectors.lineage_depth_clamp(int_param(request, "depth"))
    report = None
    if node_id:
        try:
            report = selectors.lineage_downstream_report(project=project, node_id=node_id, depth=depth)
        except selectors.LineageNodeNotFound:
            raise Http404("No such node in this project.")
        if param(request, "format") == "csv":
            return csv_response(
                f"project-{project.pk}-impact.csv",
                IMPACT_CSV,
                (
                    [
                        level["depth"],
                        node["id"],
                        node["type"],
                        (node["app"] or {}).get("appName") or node["label"],
                        node.get("app_id") or "",
                        (node["app"] or {}).get("owner_name") or (node["app"] or {}).get("ownerId") or "",
                        (node["app"] or {}).get("space_name") or "",
                        (node["app"] or {}).get("usage_classification") or "",
                        (node["app"] or {}).get("last_viewed_at"),
                        node["used"] if node["type"] == "app" else "",
                    ]
                    for level in report["by_depth"]
                    for node in level["nodes"]
                ),
            )
    matches = selectors.lineage_node_search(project=project, query=query) if query and not node_id else []
    context = {
        **project_context(project),
        "node_id": node_id,
        "query": query,
        "depth": depth,
        "report": report,
        "matches": matches,
        "impact_base": reverse("impact", args=[project.pk]),
    }
    return render(request, "lineage/impact.html", context)
