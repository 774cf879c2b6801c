"""The consultants' pages: the projects they may see, a project's dashboard, search, CSV."""

import csv
import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from customers.models import Project
from customers.selectors import project_get, project_list
from qlik import filtersets, selectors
from qlik.models import QlikChange

CLEAN_UP_ROWS = 50


def project_or_404(project_id: int) -> Project:
    try:
        return project_get(project_id=project_id)
    except Project.DoesNotExist:
        raise Http404("No such project.")  # another customer's project looks like none at all


def _bars(rows: list[tuple[str, int]]) -> list[dict]:
    """Rows of (label, value) with each bar's share of the largest, for the SVG charts."""
    top = max((value for _, value in rows), default=0) or 1
    bars = []
    for label, value in rows:
        percent = round(100 * value / top, 1)
        bars.append({"label": label, "value": value, "percent": percent, "gap": round(100 - percent, 1)})
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
    "usage": lambda project: selectors.usage_classification_counts(project=project),
    "top_viewed": lambda project: [
        (usage.appName or usage.app_id, usage.views) for usage in selectors.apps_top_viewed(project=project)
    ],
    "reload_failures": lambda project: selectors.reload_failures_by_day(project=project),
    "connection_types": lambda project: [
        (kind or "unknown", n) for kind, n in selectors.connections_by_type(project=project)
    ],
}


def _dashboard_tables(project: Project) -> dict:
    return {name: _bars(chart(project)) for name, chart in CHARTS.items()}


@login_required
def project_dashboard(request, project_id: int):
    project = project_or_404(project_id)
    context = {
        "project": project,
        "overview": selectors.project_overview(project=project),
        "sync": selectors.sync_state(project=project),
        "clean_up": list(selectors.apps_to_clean_up(project=project)[:CLEAN_UP_ROWS]),
        "clean_up_limit": CLEAN_UP_ROWS,
        **_dashboard_tables(project),
    }
    return render(request, "qlik/project_dashboard.html", context)


# Column names as the API names fields (snake_case; README, "The API").
CSV_EXPORTS = {
    "usage": ("usage_classification", "apps"),
    "top_viewed": ("app_name", "app_opens_and_sheet_views"),
    "reload_failures": ("day", "failed_reloads"),
    "connection_types": ("connection_type", "connections"),
}
CLEAN_UP_COLUMNS = (
    "app_id",
    "name",
    "space_name",
    "usage_classification",
    "last_reload_at",
    "last_viewed_at",
)


@login_required
def dashboard_csv(request, project_id: int, name: str):
    """Each chart, and the clean-up table, as CSV."""
    project = project_or_404(project_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="project-{project.pk}-{name}.csv"'
    writer = csv.writer(response)
    if name == "clean_up":
        writer.writerow(CLEAN_UP_COLUMNS)
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
    writer.writerows(CHARTS[name](project))
    return response


@login_required
def project_search(request, project_id: int):
    project = project_or_404(project_id)
    query = request.GET.get("q", "")
    results = selectors.project_search(project=project, query=query)
    total = sum(len(rows) for rows in results.values())
    return render(
        request,
        "qlik/project_search.html",
        {"project": project, "query": query, "results": results, "total": total},
    )


CHANGES_PAGE = 100


def _change_url(project: Project, change) -> str | None:
    """The page of the thing a change is about, where there is one."""
    from django.urls import NoReverseMatch, reverse

    kind = QlikChange.Kind
    routes = {
        "app": (
            "app-detail",
            {kind.APP_ADDED, kind.APP_RENAMED, kind.APP_MOVED, kind.APP_PUBLISHED, kind.SCRIPT_CHANGED},
        ),
        "connection": ("connection-detail", {kind.CONNECTION_ADDED, kind.CONNECTION_CHANGED}),
    }
    for name, kinds in routes.values():
        if change.kind in kinds:
            try:
                return reverse(name, args=[project.pk, change.object_id])
            except NoReverseMatch:
                return None
    return None


@login_required
def project_changes(request, project_id: int):
    """What changed in the tenant between syncs, newest first, with script diffs inline;
    filtered by kind and date (the API's filters), paged, and as CSV."""
    project = project_or_404(project_id)
    filterset = filtersets.ChangeFilterSet(request.GET, queryset=selectors.change_list(project=project))
    changes = filterset.qs if filterset.is_valid() else selectors.change_list(project=project).none()
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="project-{project.pk}-changes.csv"'
        writer = csv.writer(response)
        writer.writerow(["detected_at", "kind", "object_id", "object_name", "before", "after"])
        for change in changes.iterator(chunk_size=1000):
            writer.writerow(
                [
                    change.detected_at.isoformat(),
                    change.kind,
                    change.object_id,
                    change.object_name,
                    json.dumps(change.before, sort_keys=True) if change.before is not None else "",
                    json.dumps(change.after, sort_keys=True) if change.after is not None else "",
                ]
            )
        return response
    page = Paginator(changes, CHANGES_PAGE).get_page(request.GET.get("page"))
    rows = [
        {"change": change, "url": _change_url(project, change), "diff": selectors.script_diff(change=change)}
        for change in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "qlik/project_changes.html",
        {
            "project": project,
            "sync": selectors.sync_state(project=project),
            "filterset": filterset,
            "rows": rows,
            "page": page,
            "kinds": QlikChange.Kind.choices,
            "chosen_kinds": request.GET.getlist("kind"),
            "query": query.urlencode(),
        },
    )
