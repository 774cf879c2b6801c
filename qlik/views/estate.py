"""Spaces and data connections: an index of each and a page of each (never a secret)."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from lineage import selectors as lineage
from qlik import selectors
from qlik.models import QlikDataConnection, QlikSpace
from qlik.views.common import csv_response, param, path_id, project_context, project_or_404

SPACE_APPS_SHOWN = 200


@login_required
def space_index(request, project_id: int):
    project = project_or_404(project_id)
    spaces = selectors.space_list_with_counts(project=project)
    if param(request, "format") == "csv":
        return csv_response(
            f"project-{project.pk}-spaces.csv",
            ["space_id", "space_name", "type", "owner_id", "owner_name", "apps"],
            ([s.space_id, s.spaceName, s.type, s.ownerId, s.owner_name, s.apps] for s in spaces),
        )
    return render(request, "qlik/space_index.html", {**project_context(project), "spaces": list(spaces)})


@login_required
def space_page(request, project_id: int, space_id: str):
    """A space: its apps with usage and owners (the first SPACE_APPS_SHOWN; all of them in
    the browser and its CSV), its data connections and its data files."""
    project = project_or_404(project_id)
    try:
        space = selectors.space_get(project=project, space_id=path_id(space_id))
    except QlikSpace.DoesNotExist:
        raise Http404("No such space in this project.")
    apps = selectors.app_browse(project=project, space=space.space_id)
    filter_query = urlencode({"space": space.space_id})
    context = {
        **project_context(project),
        "space": space,
        "owner_name": selectors.user_name(project=project, user_id=space.ownerId),
        "apps": list(apps[:SPACE_APPS_SHOWN]),
        "apps_total": apps.count(),
        "apps_shown": SPACE_APPS_SHOWN,
        "filter_query": filter_query,
        "connections": list(
            selectors.data_connection_list(project=project).filter(space=space.space_id).order_by("qName")
        ),
        "datasets": list(
            selectors.dataset_list(project=project).filter(spaceId=space.space_id)[:SPACE_APPS_SHOWN]
        ),
    }
    datasets = context["datasets"]
    nodes = lineage.lineage_nodes_of_datasets(project=project, dataset_ids=[d.dataset_id for d in datasets])
    for dataset in datasets:
        dataset.node_id = nodes.get(dataset.dataset_id, "")
    return render(request, "qlik/space_page.html", context)


@login_required
def connection_index(request, project_id: int):
    project = project_or_404(project_id)
    connections = selectors.data_connection_list_named(project=project)
    if param(request, "format") == "csv":
        return csv_response(
            f"project-{project.pk}-connections.csv",
            ["connection_id", "name", "type", "space_id", "space_name"],
            ([c.connection_id, c.qName, c.qType, c.space, c.space_name] for c in connections),
        )
    return render(
        request, "qlik/connection_index.html", {**project_context(project), "connections": list(connections)}
    )


CONNECTION_CSV = ["node_id", "type", "name", "read_by", "written_by"]


@login_required
def connection_page(request, project_id: int, connection_id: str):
    """A data connection: type, space, who made it, the tables and files behind it (from the
    lineage graph, which holds the reload metadata's and the scripts' statements) and the
    apps that read or write them. The connect statement is shown as the sync stored it:
    the sync never requests `qConnectionSecret` and strips it if sent."""
    project = project_or_404(project_id)
    try:
        connection = selectors.data_connection_get(project=project, connection_id=path_id(connection_id))
    except QlikDataConnection.DoesNotExist:
        raise Http404("No such data connection in this project.")
    node_id = lineage.lineage_node_of_connection(project=project, connection_id=connection.connection_id)
    contents = (
        lineage.lineage_connection_contents(project=project, node_id=node_id)
        if node_id
        else {"items": [], "apps": []}
    )
    if param(request, "format") == "csv":
        return csv_response(
            f"project-{project.pk}-connection-{connection.connection_id}.csv",
            CONNECTION_CSV,
            (
                [
                    item["id"],
                    item["type"],
                    item["label"],
                    " | ".join(app.get("appName") or app["app_id"] for app in item["readers"]),
                    " | ".join(app.get("appName") or app["app_id"] for app in item["writers"]),
                ]
                for item in contents["items"]
            ),
        )
    space = (
        selectors.space_list(project=project).filter(space_id=connection.space).first()
        if connection.space
        else None
    )
    context = {
        **project_context(project),
        "connection": connection,
        "space": space,
        "owner_name": selectors.user_name(project=project, user_id=connection.user),
        "node_id": node_id,
        "contents": contents,
    }
    return render(request, "qlik/connection_page.html", context)
