"""A project's change log: what changed in the tenant between syncs, with script diffs."""

import csv
import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse

from customers.models import Project
from qlik import filtersets, selectors
from qlik.models import QlikChange
from qlik.views.common import project_context, project_or_404

CHANGES_PAGE = 100


def _change_url(project: Project, change) -> str | None:
    """The page of the thing a change is about, where there is one."""
    from django.urls import NoReverseMatch

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
            **project_context(project),
            "filterset": filterset,
            "rows": rows,
            "page": page,
            "kinds": QlikChange.Kind.choices,
            "chosen_kinds": request.GET.getlist("kind"),
            "query": query.urlencode(),
        },
    )
