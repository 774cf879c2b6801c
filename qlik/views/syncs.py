"""A project's sync history: each run's status, duration, calls, what it kept or changed,
and the problems it met."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from qlik import selectors
from qlik.views.common import int_param, project_context, project_or_404

RUNS_PER_PAGE = 25


@login_required
def sync_history(request, project_id: int):
    project = project_or_404(project_id)
    before = int_param(request, "before")
    runs, next_before = selectors.sync_run_page(project=project, before=before, size=RUNS_PER_PAGE)
    for run in runs:
        run.changed_tables = sorted((run.counts or {}).items())
    context = {
        **project_context(project),
        "runs": runs,
        "next_before": next_before,
        "paged": before is not None,
    }
    return render(request, "qlik/sync_history.html", context)
