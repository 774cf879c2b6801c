"""Reads for the health board: one row per visible project, worst first, in seven queries.

Whatever the number of customers and projects, the board asks the database the same seven
questions (projects, latest finished runs, the last two successful runs, failures since the
last success, running syncs, reload failures per project, waiting sync jobs), each over
every project the RLS identity may see, and puts the rows together in Python.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    TextChoices,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from customers.models import Project
from qlik.models import QlikAppUsage, QlikSyncRun

REJECTED_KEY_MARK = "credentials rejected"


class HealthState(TextChoices):
    """Worst first: the order of the board."""

    FAILING = "failing", "Failing"
    STALE = "stale", "Stale"
    DEGRADED = "degraded", "Degraded"
    HEALTHY = "healthy", "Healthy"


SEVERITY = {state: rank for rank, state in enumerate(HealthState.values)}


@dataclass
class ProjectHealth:
    """One project's health, in values a page, a CSV and the API all show."""

    project_id: int
    project_name: str
    customer_id: int
    customer_name: str
    tenant_host: str
    state: str = HealthState.HEALTHY
    reasons: list[str] = field(default_factory=list)
    last_sync_status: str | None = None
    last_sync_at: datetime | None = None
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    last_error: str = ""
    rejected_key: bool = False
    problems: list[str] = field(default_factory=list)
    apps_with_problems: int = 0
    reloads: int = 0
    reload_failures: int = 0
    reload_failure_rate: float | None = None
    reload_failure_trend: str = "steady"  # rising, falling or steady: newer half vs older half
    apps: int | None = None
    apps_change: int | None = None
    spaces: int | None = None
    spaces_change: int | None = None
    credentials_changed_at: datetime | None = None
    credentials_age_days: int | None = None
    running: bool = False
    queued: bool = False
    queued_for: datetime | None = None  # a waiting job's scheduled time (a pending retry)
    last_run_id: int | None = None

    @property
    def state_label(self) -> str:
        return HealthState(self.state).label

    @property
    def severity(self) -> int:
        return SEVERITY[self.state]


def _jsonpath_count(path: str, **variables):
    """How many values the JSON path finds in a usage row's `data` (built-in functions only)."""
    found = Func(F("data"), Value(path), Value(json.dumps(variables)), function="jsonb_path_query_array")
    return Func(found, function="jsonb_array_length", output_field=IntegerField())


def _reload_failures(projects) -> dict[int, dict]:
    """Per project: reloads in the usage window, failed reloads, and those of its newer half."""
    window = settings.QLIK_USAGE_WINDOW_DAYS
    newer_half_from = (timezone.now().date() - timedelta(days=window // 2)).isoformat()
    rows = (
        QlikAppUsage.objects.filter(project__in=projects)
        .order_by()
        .values("project_id")
        .annotate(
            reloads=Coalesce(Sum("usageReloads"), 0),
            failures=Coalesce(Sum(_jsonpath_count("$.reloadFailures[*]")), 0),
            # Dates are ISO strings, so string order is date order.
            newer=Coalesce(
                Sum(_jsonpath_count("$.reloadFailures[*] ? (@ >= $since)", since=newer_half_from)), 0
            ),
        )
    )
    return {row["project_id"]: row for row in rows}


def _queued_jobs(project_ids: list[int]) -> dict[int, datetime | None]:
    """Projects with a sync waiting in the queue, and when it is due (None: at once)."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    locks = {f"qlik-sync-{pk}": pk for pk in project_ids}
    waiting = ProcrastinateJob.objects.filter(queueing_lock__in=list(locks), status="todo").values_list(
        "queueing_lock", "scheduled_at"
    )
    return {locks[lock]: scheduled_at for lock, scheduled_at in waiting}


def project_health_list(
    *, customer_id: int | None = None, project_id: int | None = None, state: str | None = None
) -> list[ProjectHealth]:
    """Every project the identity may see (RLS), worst first; optionally one customer,
    one project or one state."""
    now = timezone.now()
    projects = Project.objects.all()
    if customer_id is not None:
        projects = projects.filter(customer_id=customer_id)
    if project_id is not None:
        projects = projects.filter(pk=project_id)
    rows = {
        p.pk: ProjectHealth(
            project_id=p.pk,
            project_name=p.name,
            customer_id=p.customer_id,
            customer_name=p.customer.name,
            tenant_host=p.customer.tenant_url.split("://", 1)[-1].split("/", 1)[0],
            credentials_changed_at=p.customer.credentials_changed_at,
        )
        for p in projects.select_related("customer").only(
            "name", "customer__name", "customer__tenant_url", "customer__credentials_changed_at"
        )
    }
    runs = QlikSyncRun.objects.filter(project__in=projects).order_by()

    latest = (
        runs.exclude(status=QlikSyncRun.Status.RUNNING)
        .order_by("project_id", "-started_at", "-id")
        .distinct("project_id")
        .only("project_id", "status", "started_at", "finished_at", "error", "problems", "apps_with_problems")
    )
    for run in latest:
        row = rows[run.project_id]
        row.last_run_id, row.last_sync_status, row.last_sync_at = run.pk, run.status, run.started_at
        if run.status == QlikSyncRun.Status.FAILED:
            row.last_error = run.error
            row.rejected_key = REJECTED_KEY_MARK in run.error.lower()
        row.apps_with_problems = run.apps_with_problems
        row.problems = run.problem_lines

    succeeded = (
        runs.filter(status=QlikSyncRun.Status.SUCCEEDED)
        .annotate(rank=Window(RowNumber(), partition_by=F("project_id"), order_by=[F("started_at").desc()]))
        .filter(rank__lte=2)
        .values("project_id", "rank", "finished_at", "counts")
    )
    previous_counts: dict[int, dict] = {}
    for run in succeeded:
        row = rows[run["project_id"]]
        counts = run["counts"] or {}
        if run["rank"] == 1:
            row.last_success_at = run["finished_at"]
            row.apps, row.spaces = counts.get("qlik_apps"), counts.get("qlik_spaces")
        else:
            previous_counts[run["project_id"]] = counts
    for project_id, counts in previous_counts.items():
        row = rows[project_id]
        if row.apps is not None and counts.get("qlik_apps") is not None:
            row.apps_change = row.apps - counts["qlik_apps"]
        if row.spaces is not None and counts.get("qlik_spaces") is not None:
            row.spaces_change = row.spaces - counts["qlik_spaces"]

    last_success_started = Subquery(
        QlikSyncRun.objects.filter(project_id=OuterRef("project_id"), status=QlikSyncRun.Status.SUCCEEDED)
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    failures = (
        runs.filter(status=QlikSyncRun.Status.FAILED)
        .alias(since=last_success_started)
        .filter(Q(since__isnull=True) | Q(started_at__gt=F("since")))
        .values("project_id")
        .annotate(n=Count("id"))
    )
    for entry in failures:
        rows[entry["project_id"]].consecutive_failures = entry["n"]

    for project_id in runs.filter(status=QlikSyncRun.Status.RUNNING).values_list("project_id", flat=True):
        rows[project_id].running = True
    for project_id, due in _queued_jobs(list(rows)).items():
        rows[project_id].queued, rows[project_id].queued_for = True, due if due and due > now else None

    for project_id, usage in _reload_failures(projects).items():
        row = rows[project_id]
        row.reloads, row.reload_failures = usage["reloads"], usage["failures"]
        if usage["reloads"]:
            row.reload_failure_rate = round(usage["failures"] / usage["reloads"], 4)
        older = usage["failures"] - usage["newer"]
        row.reload_failure_trend = (
            "rising" if usage["newer"] > older else "falling" if usage["newer"] < older else "steady"
        )

    for row in rows.values():
        _classify(row, now=now)
    result = sorted(rows.values(), key=lambda r: (r.severity, r.customer_name, r.project_name, r.project_id))
    return [row for row in result if row.state == state] if state else result


def _classify(row: ProjectHealth, *, now: datetime) -> None:
    """The row's state and its reasons, in words."""
    stale_after = timedelta(days=settings.ATLAS_HEALTH_STALE_DAYS)
    if row.credentials_changed_at:
        row.credentials_age_days = (now - row.credentials_changed_at).days
    reasons = []
    if row.last_sync_status == QlikSyncRun.Status.FAILED:
        failed = f"{row.consecutive_failures} failed sync(s) in a row"
        reasons.append(f"Rejected key: {failed}" if row.rejected_key else failed)
        row.state = HealthState.FAILING
    if row.last_success_at is None:
        reasons.append("Never synced successfully")
    elif now - row.last_success_at > stale_after:
        reasons.append(f"No successful sync for {(now - row.last_success_at).days} day(s)")
    if reasons and row.state != HealthState.FAILING:
        row.state = HealthState.STALE
    degraded = []
    if row.apps_with_problems or row.problems:
        degraded.append(f"Last sync read {row.apps_with_problems} app(s) incompletely")
    if row.reload_failures and row.reload_failure_trend == "rising":
        degraded.append(f"Reload failures rising ({row.reload_failures} in the usage window)")
    max_days = settings.ATLAS_HEALTH_CREDENTIALS_MAX_DAYS
    if row.credentials_age_days is not None and row.credentials_age_days > max_days:
        degraded.append(f"API key unchanged for {row.credentials_age_days} days")
    if degraded and row.state == HealthState.HEALTHY:
        row.state = HealthState.DEGRADED
    row.reasons = reasons + degraded


def health_state_counts(rows: list[ProjectHealth]) -> list[tuple[str, str, int]]:
    """(state, label, projects) for every state, worst first, zeros included."""
    counts = {state: 0 for state in HealthState.values}
    for row in rows:
        counts[row.state] += 1
    return [(state, HealthState(state).label, counts[state]) for state in HealthState.values]
