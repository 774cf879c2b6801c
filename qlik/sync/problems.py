"""What a sync met per app: refused, vanished, malformed or unreachable answers.

A per-app problem costs that app's detail, never the sync. The run keeps a count per
endpoint and status, and the affected apps with their reason (bounded), so support,
scripts, the command and the dashboard all read the same record.

Two things stop asking an endpoint, both said on the run:
- *Feature off*: an optional per-app endpoint (reload metadata, the lineage API) that
  answered 403/404 for the first `OFF_AFTER` apps it was asked about, and never anything
  else, is skipped for the rest of the sync (lineage is off on many tenants; some keep no
  reload metadata).
- *Systemic failure*: when `SYSTEMIC_STREAK` per-app calls in a row, or more than half
  of at least `SYSTEMIC_MIN_CALLS` calls, ended unavailable after their retries (5xx,
  timeouts, 429 for longer than the retry budget) or answered garbage (a proxy's HTML
  error page), the tenant is down, not an app: the sync fails and the previous snapshot
  stays. 403 and 404 never count: they say something true about each app.
"""

import threading
from collections import Counter
from dataclasses import dataclass, field

from qlik.client import QlikBadResponse, QlikError, QlikUnavailable

OFF_AFTER = 20
SYSTEMIC_STREAK = 10
SYSTEMIC_MIN_CALLS = 20
MAX_APPS_LISTED = 200

ENDPOINT_LABELS = {
    "attributes": "app details",
    "script": "script",
    "reload_metadata": "reload metadata",
    "lineage": "lineage",
}
OPTIONAL_ENDPOINTS = ("reload_metadata", "lineage")
REASONS = {
    ("attributes", "403"): "app details not readable",
    ("attributes", "404"): "app gone since the listing",
    ("attributes", "410"): "app gone since the listing",
    ("script", "403"): "script not readable",
    ("script", "404"): "app gone before its script was read",
    ("script", "410"): "app gone before its script was read",
    ("reload_metadata", "403"): "reload metadata not readable",
    ("reload_metadata", "404"): "reload metadata not kept",
    ("reload_metadata", "410"): "reload metadata not kept",
    ("lineage", "403"): "lineage not readable",
    ("lineage", "404"): "no lineage (off, or the app is gone)",
    ("lineage", "410"): "no lineage (off, or the app is gone)",
}


class SyncSystemicFailure(QlikUnavailable):
    """Per-app calls fail across the board: the tenant, not an app, is the problem."""


def problem_status(error: QlikError) -> str:
    """How a problem is counted: the HTTP status, or 'malformed' / 'unavailable'."""
    if isinstance(error, QlikBadResponse):
        return "malformed"
    if isinstance(error, QlikUnavailable):
        return "unavailable"
    return str(error.status or "error")


def problem_reason(endpoint: str, status: str) -> str:
    label = ENDPOINT_LABELS.get(endpoint, endpoint)
    if (endpoint, status) in REASONS:
        return REASONS[(endpoint, status)]
    if status == "malformed":
        return f"{label} answered malformed"
    if status == "unavailable":
        return f"{label} unavailable after retries"
    return f"{label} refused"


def problem_line(apps: int, endpoint: str, status: str) -> str:
    """'24 apps: script not readable (403)'"""
    shown = "" if status in ("malformed", "unavailable") else f" ({status})"
    return f"{apps} app{'s' if apps != 1 else ''}: {problem_reason(endpoint, status)}{shown}"


@dataclass
class _Gate:
    refused: int = 0
    answered: int = 0
    off: bool = False


@dataclass
class SyncProblems:
    """Thread-safe record of per-app problems, feature switches and the systemic breaker."""

    max_apps_listed: int = MAX_APPS_LISTED
    counts: Counter = field(default_factory=Counter)  # (endpoint, status) -> apps
    apps: list[dict] = field(default_factory=list)  # bounded: the first ones met
    affected: set[str] = field(default_factory=set)
    skipped: dict[str, str] = field(default_factory=dict)  # endpoint -> why
    _gates: dict[str, _Gate] = field(default_factory=lambda: {name: _Gate() for name in OPTIONAL_ENDPOINTS})
    _calls: int = 0
    _unavailable: int = 0
    _streak: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def asking(self, endpoint: str) -> bool:
        """Whether `endpoint` is still worth a call in this sync."""
        gate = self._gates.get(endpoint)
        return gate is None or not gate.off

    def answered(self, endpoint: str) -> None:
        with self._lock:
            self._calls += 1
            self._streak = 0
            if gate := self._gates.get(endpoint):
                gate.answered += 1

    def failed(self, *, app_id: str, app_name: str, endpoint: str, error: QlikError) -> dict:
        """Record one app's failed call; returns the problem as stored on the app."""
        status = problem_status(error)
        problem = {"endpoint": endpoint, "status": status, "reason": problem_reason(endpoint, status)}
        with self._lock:
            self._calls += 1
            self.counts[(endpoint, status)] += 1
            self.affected.add(app_id)
            if len(self.apps) < self.max_apps_listed:
                self.apps.append({"app_id": app_id, "name": app_name, **problem, "detail": str(error)[:300]})
            if status in ("unavailable", "malformed"):
                self._unavailable += 1
                self._streak += 1
            else:
                self._streak = 0
            gate = self._gates.get(endpoint)
            if gate and status in ("403", "404") and not gate.answered:
                gate.refused += 1
                if gate.refused >= OFF_AFTER and not gate.off:
                    gate.off = True
                    why = "lineage is off on this tenant" if endpoint == "lineage" else "none is kept"
                    self.skipped[endpoint] = (
                        f"{ENDPOINT_LABELS[endpoint].capitalize()} answered {status} for the first "
                        f"{gate.refused} apps and nothing else: not asked for the rest of this sync ({why})."
                    )
        return problem

    def carried(self, *, app_id: str, app_name: str, problems: list[dict]) -> None:
        """Problems of an app carried over unchanged: still true of the snapshot, so counted
        on this run too, without touching the feature switches or the breaker."""
        with self._lock:
            for problem in problems:
                endpoint, status = problem.get("endpoint", ""), problem.get("status", "")
                self.counts[(endpoint, status)] += 1
                self.affected.add(app_id)
                if len(self.apps) < self.max_apps_listed:
                    self.apps.append({"app_id": app_id, "name": app_name, **problem, "carried": True})

    def systemic_check(self) -> None:
        """Raise when per-app calls fail across the board (see the module docstring)."""
        with self._lock:
            streak, calls, unavailable = self._streak, self._calls, self._unavailable
        if streak >= SYSTEMIC_STREAK or (calls >= SYSTEMIC_MIN_CALLS and unavailable * 2 > calls):
            raise SyncSystemicFailure(
                f"The tenant failed {unavailable} of {calls} per-app calls after retries or answered "
                f"them malformed ({streak} in a row): it is unavailable, not one app. "
                "The previous snapshot is kept."
            )

    def lines(self) -> list[str]:
        """One line per endpoint and status, most apps first, then what was skipped."""
        ordered = sorted(self.counts.items(), key=lambda entry: (-entry[1], entry[0]))
        return [problem_line(apps, endpoint, status) for (endpoint, status), apps in ordered] + list(
            self.skipped.values()
        )

    def as_json(self) -> dict:
        if not self.counts and not self.skipped:
            return {}
        ordered = sorted(self.counts.items(), key=lambda entry: (-entry[1], entry[0]))
        return {
            "counts": [
                {
                    "endpoint": endpoint,
                    "status": status,
                    "apps": apps,
                    "reason": problem_reason(endpoint, status),
                    "summary": problem_line(apps, endpoint, status),
                }
                for (endpoint, status), apps in ordered
            ],
            "apps": self.apps,
            "apps_listed_limit": self.max_apps_listed,
            "skipped": [{"endpoint": name, "why": why} for name, why in self.skipped.items()],
        }
