"""The health board in the admin (/admin/health/): read, filter, download, act."""

import csv

from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from guardian.shortcuts import get_objects_for_user

from atlas.admin import changelist_url
from atlas.fields import UndecryptableSecret
from customers.models import Customer, Project
from customers.permissions import CHANGE_CUSTOMER
from customers.selectors import customer_list, project_get
from customers.services import customer_connection_check
from health.selectors import HealthState, health_state_counts, project_health_list
from qlik.client import QlikError
from qlik.models import QlikSyncRun
from qlik.services import project_sync_enqueue

CSV_COLUMNS = (
    ("customer_name", "customer"),
    ("project_name", "project"),
    ("state", "state"),
    ("reasons", "reasons"),
    ("last_sync_status", "last sync"),
    ("last_sync_at", "last sync at"),
    ("last_success_at", "last success at"),
    ("consecutive_failures", "consecutive failures"),
    ("rejected_key", "rejected key"),
    ("last_error", "last error"),
    ("apps_with_problems", "apps with problems"),
    ("reloads", "reloads in window"),
    ("reload_failures", "reload failures in window"),
    ("reload_failure_rate", "reload failure rate"),
    ("reload_failure_trend", "reload failure trend"),
    ("apps", "apps"),
    ("apps_change", "apps change"),
    ("spaces", "spaces"),
    ("spaces_change", "spaces change"),
    ("credentials_age_days", "credentials age (days)"),
    ("queued", "sync queued"),
    ("running", "sync running"),
)


def _changeable_customer_ids(user) -> set[int] | None:
    """Customers whose projects the user may sync (None: all, for superusers). One query."""
    if user.is_superuser:
        return None
    return set(get_objects_for_user(user, CHANGE_CUSTOMER, Customer).values_list("pk", flat=True))


def _filters(request) -> dict:
    state = request.GET.get("state") or None
    customer = request.GET.get("customer") or ""
    return {
        "state": state if state in HealthState.values else None,
        "customer_id": int(customer)
        if customer.isascii() and customer.isdigit() and len(customer) < 19
        else None,
    }


def _csv(rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="health-{timezone.now():%Y%m%d-%H%M}.csv"'
    writer = csv.writer(response)
    writer.writerow([label for _, label in CSV_COLUMNS])
    for row in rows:
        values = [getattr(row, name) for name, _ in CSV_COLUMNS]
        writer.writerow(["; ".join(value) if isinstance(value, list) else value for value in values])
    return response


def _act(request) -> None:
    """Sync now or Test connection of one project, with a message saying how it went."""
    try:
        project = project_get(project_id=request.POST.get("project", ""))
    except Project.DoesNotExist:
        raise Http404("No such project.")
    action = request.POST.get("action")
    if action == "sync":
        changeable = _changeable_customer_ids(request.user)
        if changeable is not None and project.customer_id not in changeable:
            messages.error(request, f"{project}: you may see it but not sync it (that takes change rights).")
            return
        job = project_sync_enqueue(
            project=project, trigger=QlikSyncRun.Trigger.ADMIN, requested_by=request.user
        )
        if job:
            messages.success(request, f"{project}: sync queued.")
        else:
            rows = project_health_list(project_id=project.pk)
            due = rows[0].queued_for if rows else None
            messages.warning(
                request,
                f"{project}: a sync is already waiting"
                + (f"; it is a retry due at {due:%Y-%m-%d %H:%M} UTC." if due else ", not queued twice."),
            )
    elif action == "test":
        try:
            messages.success(request, customer_connection_check(customer=project.customer))
        except (QlikError, UndecryptableSecret) as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "Unknown action.")


@require_http_methods(["GET", "POST"])
def health_board(request):
    """Staff only (admin_view turns everyone else to the login page); RLS picks the rows."""
    if request.method == "POST":
        _act(request)
        return HttpResponseRedirect(request.get_full_path())
    filters = _filters(request)
    rows = project_health_list(customer_id=filters["customer_id"])
    counts = health_state_counts(rows)
    if filters["state"]:
        rows = [row for row in rows if row.state == filters["state"]]
    if request.GET.get("format") == "csv":
        return _csv(rows)
    changeable = _changeable_customer_ids(request.user)
    for row in rows:
        row.can_sync = changeable is None or row.customer_id in changeable
        row.customer_url = reverse("admin:customers_customer_change", args=[row.customer_id])
        row.dashboard_url = reverse("project-dashboard", args=[row.project_id])
        row.history_url = changelist_url(QlikSyncRun, project__id__exact=row.project_id)
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        **admin.site.each_context(request),
        "title": "Health of every project",
        "rows": rows,
        "counts": counts,
        "filters": filters,
        "customers": list(customer_list().only("name")),
        "query": query.urlencode(),
        "csv_query": (query.urlencode() + "&" if query else "") + "format=csv",
        "stale_days": settings.ATLAS_HEALTH_STALE_DAYS,
    }
    return TemplateResponse(request, "admin/health/board.html", context)
