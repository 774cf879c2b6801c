"""The projects a consultant may see, a project's dashboard and its CSV, search."""

import csv
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from customers.selectors import project_list
from lineage.selectors import lineage_nodes_of_datasets
from qlik import selectors
from qlik.models import QlikAppUsage
from qlik.views.common import param, project_context, project_or_404

CLEAN_UP_ROWS = 50


def _bars(rows: list[tuple], link) -> list[dict]:
    """Rows of (label, value[, key]) with each bar's share of the largest, for the SVG
    charts, and the query string (or path) of the page each bar opens."""
    top = max((row[1] for row in rows), default=0) or 1
    bars = []
    for label, value, *key in rows:
        percent = round(100 * value / top, 1)
        bars.append(
            {
                "label": label,
                "value": value,
                "percent": percent,
                "gap": round(100 - percent, 1),
                "link": link(key[0] if key else label),
            }
        )
    return bars


@login_required
def project_list_page(request):
    projects = list(
        selectors.last_sync_annotate(queryset=project_list(), project_path="project").order_by(
            "customer__name", "name"
        )
    )
    return render(request, "qlik/project_list.html", {"projects": projects, "now": timezone.now()})


CHARTS = {
    "usage": lambda project: [
        (label, n, code)
        for (label, n), code in zip(
            selectors.usage_classification_counts(project=project),
            QlikAppUsage.Classification.values,
            strict=True,
        )
    ],
    "top_viewed": lambda project: [
        (usage.appName or usage.app_id, usage.views, usage.app_id)
        for usage in selectors.apps_top_viewed(project=project)
    ],
    "reload_failures": lambda project: selectors.reload_failures_by_day(project=project),
    "connection_types": lambda project: [
        (kind or "unknown", n, kind) for kind, n in selectors.connections_by_type(project=project)
    ],
}
# Where each chart's bars lead: the apps browser filtered to the bar (an app: its page).
BAR_LINKS = {
    "usage": lambda key: f"apps/?{urlencode({'usage': key})}",
    "top_viewed": lambda key: f"apps/{key}/",
    "reload_failures": lambda key: f"apps/?{urlencode({'failed_on': key})}",
    "connection_types": lambda key: f"apps/?{urlencode({'connection_type': key})}",
}


def _dashboard_tables(project) -> dict:
    return {name: _bars(chart(project), BAR_LINKS[name]) for name, chart in CHARTS.items()}


@login_required
def project_dashboard(request, project_id: int):
    project = project_or_404(project_id)
    context = {
        **project_context(project),
        "overview": selectors.project_overview(project=project),
        "clean_up": list(selectors.apps_to_clean_up(project=project)[:CLEAN_UP_ROWS]),
        "clean_up_limit": CLEAN_UP_ROWS,
        **_dashboard_tables(project),
    }
    return render(request, "qlik/project_dashboard.html", context)


CSV_EXPORTS = {
    "usage": ("usage_classification", "apps"),
    "top_viewed": ("app_name", "opens_and_sheet_views"),
    "reload_failures": ("day", "failed_reloads"),
    "connection_types": ("connection_type", "connections"),
}


@login_required
def dashboard_csv(request, project_id: int, name: str):
    """Each chart, and the clean-up table, as CSV."""
    project = project_or_404(project_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="project-{project.pk}-{name}.csv"'
    writer = csv.writer(response)
    if name == "clean_up":
        writer.writerow(
            ["app_id", "name", "space_name", "usage_classification", "last_reload_at", "last_viewed_at"]
        )
        for app in selectors.apps_to_clean_up(project=project):
            writer.writerow(
                [
                    app.app_id,
                    app.appName,
                    app.space_name or "",
                    app.usage_classification or "",
                    app.last_reload_at or "",
                    app.last_viewed_at or "",
                ]
            )
        return response
    if name not in CSV_EXPORTS:
        raise Http404("No such export.")
    writer.writerow(CSV_EXPORTS[name])
    writer.writerows(row[:2] for row in CHARTS[name](project))
    return response


@login_required
def project_search(request, project_id: int):
    """Apps, spaces, connections, files and lineage nodes by name, typos forgiven, or by a
    GUID, item id or QRI (whole or a part); each result links to its page."""
    project = project_or_404(project_id)
    query = param(request, "q", 200)
    results = selectors.project_search(project=project, query=query)
    total = sum(len(rows) for rows in results.values())
    dataset_nodes = lineage_nodes_of_datasets(
        project=project, dataset_ids=[dataset.dataset_id for dataset in results["datasets"]]
    )
    for dataset in results["datasets"]:
        dataset.node_id = dataset_nodes.get(dataset.dataset_id, "")
    context = {**project_context(project), "query": query, "results": results, "total": total}
    return render(request, "qlik/project_search.html", context)
