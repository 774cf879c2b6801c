"""The apps browser (sortable, filterable, keyset pages, CSV of exactly the filtered list)
and an app's own page."""

import base64
import itertools
import json
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from lineage import selectors as lineage
from qlik import selectors
from qlik.forms import AppBrowserForm
from qlik.models import QlikApp, QlikAppUsage
from qlik.script_highlight import script_highlight
from qlik.views.common import csv_response, param, path_id, project_context, project_or_404

PAGE_SIZE = 50
APP_CSV_COLUMNS = [  # the API's names (README, "The API"): an app's own name is `name`
    "app_id",
    "name",
    "space_id",
    "space_name",
    "owner_id",
    "owner_name",
    "usage_classification",
    "reload_status",
    "last_reload_at",
    "last_viewed_at",
    "app_opens",
    "published",
    "section_access",
    "has_script",
]
COLUMNS = [  # (sort key or "", heading) of the browser's table
    ("name", "App"),
    ("space", "Space"),
    ("owner", "Owner"),
    ("usage", "Usage"),
    ("opens", "Opens"),
    ("last_reload", "Last reload"),
    ("last_viewed", "Last viewed"),
    ("", "Published"),
]


def _cursor_encode(value, guid: str) -> str:
    raw = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([raw, guid]).encode()).decode().rstrip("=")


def _cursor_decode(cursor: str, kind: str) -> tuple | None:
    """The (sort value, GUID) a page starts after, or None for a cursor that is not one."""
    try:
        raw, guid = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if kind == "time":
            raw = datetime.fromisoformat(raw)
        elif kind == "int":
            raw = int(raw)
        elif not isinstance(raw, str):
            return None
        return (raw, str(guid)) if "\x00" not in str(raw) + str(guid) else None
    except (ValueError, TypeError):
        return None


def _browser_form(request, project) -> AppBrowserForm:
    spaces = [
        (space.space_id, space.spaceName or space.space_id)
        for space in selectors.space_list(project=project).order_by("spaceName")
    ]
    return AppBrowserForm(request.GET, spaces=spaces, owners=selectors.app_owner_choices(project=project))


@login_required
def app_browser(request, project_id: int):
    """Every app, sorted and filtered as the URL says, a page at a time; counts of the
    filtered list and of each usage class in it. A constant number of queries."""
    project = project_or_404(project_id)
    form = _browser_form(request, project)
    filters = form.filters()
    apps = selectors.app_browse(project=project, **filters)
    sort = param(request, "sort", 20) or "name"
    ordered, key, descending = selectors.app_sort(queryset=apps, sort=sort)
    after = (
        _cursor_decode(param(request, "after"), selectors.APP_SORTS[key]) if param(request, "after") else None
    )
    rows, next_key = selectors.app_page(queryset=ordered, descending=descending, after=after, size=PAGE_SIZE)
    kept = form.query()
    kept.pop("after", None)
    facet_filters = {name: value for name, value in filters.items() if name != "usage"}
    facets = selectors.app_browse_facets(queryset=selectors.app_browse(project=project, **facet_filters))
    usage_chips = [
        {"code": code, "label": label, "n": facets.get(code, 0), "query": urlencode({**kept, "usage": code})}
        for code, label in QlikAppUsage.Classification.choices
    ]
    current = f"-{key}" if descending else key
    headings = [
        {
            "label": label,
            "key": column,
            "query": urlencode({**kept, "sort": f"-{column}" if current == column else column})
            if column
            else "",
            "sorted": "descending" if current == f"-{column}" else "ascending" if current == column else "",
        }
        for column, label in COLUMNS
    ]
    context = {
        **project_context(project),
        "form": form,
        "apps": rows,
        "matched": apps.count(),
        "usage_chips": usage_chips,
        "any_usage_query": urlencode({k: v for k, v in kept.items() if k != "usage"}),
        "headings": headings,
        "filtered": bool(filters),
        "ignored": sorted(name for name in form.errors),
        "next_href": "?" + urlencode({**kept, "after": _cursor_encode(*next_key)}) if next_key else "",
        "first_href": "?" + urlencode(kept) if after else "",
        "csv_query": urlencode(kept),
        "stale_days": settings.QLIK_STALE_DAYS,
    }
    return render(request, "qlik/app_browser.html", context)


@login_required
def app_browser_csv(request, project_id: int):
    """Exactly the browser's filtered list, in its order, every page."""
    project = project_or_404(project_id)
    form = _browser_form(request, project)
    apps, _, _ = selectors.app_sort(
        queryset=selectors.app_browse(project=project, **form.filters()),
        sort=param(request, "sort", 20) or "name",
    )
    rows = (
        [
            app.app_id,
            app.appName,
            app.spaceId or "",
            app.space_name or "",
            app.ownerId,
            app.owner_name or "",
            app.usage_classification or "",
            app.status,
            app.last_reload_at,
            app.last_viewed_at,
            app.app_opens,
            app.published,
            bool((app.data.get("attributes") or {}).get("hasSectionAccess")),
            app.has_script,
        ]
        for app in apps.iterator(chunk_size=2000)
    )
    return csv_response(f"project-{project.pk}-apps.csv", APP_CSV_COLUMNS, rows)


def _app_or_404(project, app_id: str) -> QlikApp:
    try:
        return selectors.app_get(project=project, app_id=app_id)
    except QlikApp.DoesNotExist:
        raise Http404("No such app in this project.")


def _weekly_opens(item: dict) -> list[dict]:
    """The item's weekly opens (oldest first) as bars for the small usage chart."""
    weeks = (item.get("itemViews") or {}).get("week") or []
    rows = sorted(
        ((week.get("start") or "")[:10], int(week.get("total") or 0))
        for week in weeks
        if isinstance(week, dict)
    )
    top = max((n for _, n in rows), default=0) or 1
    return [
        {"week": week, "n": n, "percent": round(100 * n / top, 1), "gap": round(100 - 100 * n / top, 1)}
        for week, n in rows
    ]


@login_required
def app_page(request, project_id: int, app_id: str):
    """An app: details, usage, reloads, its load script (highlighted, numbered, each line the
    lineage used linked to its node), direct sources and outputs, a small graph."""
    project = project_or_404(project_id)
    app = _app_or_404(project, path_id(app_id))
    node_id = f"app:{app.app_id}"
    try:
        io = lineage.lineage_node_io(project=project, node_id=node_id)
        graph = lineage.lineage_both_ways(project=project, node_id=node_id, depth=2)
    except lineage.LineageNodeNotFound:
        io, graph = {"sources": [], "outputs": []}, None
    used_lines = lineage.lineage_script_lines(io=io, app_id=app.app_id)
    script = selectors.app_script_get(project=project, app_id=app.app_id)
    lines = (
        [
            {"n": n, "html": html, "nodes": used_lines.get(n, [])}
            for n, html in enumerate(script_highlight(script), start=1)
        ]
        if script is not None
        else []
    )
    item = app.data.get("item") or {}
    attributes = app.data.get("attributes") or item.get("resourceAttributes") or {}
    usage = app.usage
    versions = selectors.script_versions(project=project, app_id=app.app_id)
    # Script history: each kept version against the one before it, newest first.
    history = [
        {"version": newer, "diff": selectors.script_versions_diff(before=older, after=newer)}
        for newer, older in itertools.pairwise(versions)
    ]
    context = {
        **project_context(project),
        "app": app,
        "item": item,
        "attributes": attributes,
        "usage": usage,
        "weeks": _weekly_opens(item),
        "failures": (usage.data.get("reloadFailures") if usage else None) or [],
        "reload": app.data.get("reloadMetadata") or {},
        "problems": app.data.get("problems") or [],
        "size": (item.get("resourceSize") or {}).get("appFile"),
        "changed": item.get("resourceUpdatedAt") or item.get("updatedAt"),
        "tenant_link": f"{project.customer.tenant_url.rstrip('/')}/sense/app/{app.app_id}",
        "api_url": f"/api/v1/projects/{project.pk}/apps/{app.app_id}/",
        "lines": lines,
        "has_script": script is not None,
        "history": history,
        "versions": versions,
        "io": io,
        "graph": graph,
        "node_id": node_id,
        "window_days": settings.QLIK_USAGE_WINDOW_DAYS,
    }
    return render(request, "qlik/app_page.html", context)
