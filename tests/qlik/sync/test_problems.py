"""The per-app problem record: counts, bounds, feature switches and the systemic breaker."""

import pytest

from qlik.client import QlikBadResponse, QlikRefused, QlikUnavailable
from qlik.sync.problems import OFF_AFTER, SYSTEMIC_STREAK, SyncProblems, SyncSystemicFailure


def _refused(status: int) -> QlikRefused:
    return QlikRefused(f"HTTP {status}", status=status)


def test_problems_are_counted_per_endpoint_and_status_and_the_app_list_is_bounded():
    problems = SyncProblems(max_apps_listed=5)
    for n in range(24):
        problems.failed(app_id=f"app-{n}", app_name=f"App {n}", endpoint="script", error=_refused(403))
    problems.failed(app_id="app-x", app_name="X", endpoint="attributes", error=_refused(404))
    record = problems.as_json()
    assert [(c["endpoint"], c["status"], c["apps"]) for c in record["counts"]] == [
        ("script", "403", 24),
        ("attributes", "404", 1),
    ]
    assert len(record["apps"]) == 5
    assert problems.lines()[:2] == [
        "24 apps: script not readable (403)",
        "1 app: app gone since the listing (404)",
    ]
    assert len(problems.affected) == 25


def test_an_optional_endpoint_refused_for_the_first_apps_is_switched_off_and_said_so():
    problems = SyncProblems()
    for n in range(OFF_AFTER):
        assert problems.asking("lineage")
        problems.failed(app_id=f"a{n}", app_name="", endpoint="lineage", error=_refused(404))
    assert not problems.asking("lineage")
    assert problems.asking("script")  # scripts are never switched off
    assert "lineage is off on this tenant" in problems.lines()[-1]


def test_an_optional_endpoint_that_answered_once_is_never_switched_off():
    problems = SyncProblems()
    problems.answered("reload_metadata")
    for n in range(OFF_AFTER * 2):
        problems.failed(app_id=f"a{n}", app_name="", endpoint="reload_metadata", error=_refused(404))
    assert problems.asking("reload_metadata")  # some reloads' metadata is simply not kept


def test_unavailable_or_malformed_answers_in_a_row_are_systemic_but_403s_never():
    refusals = SyncProblems()
    for n in range(SYSTEMIC_STREAK * 3):
        refusals.failed(app_id=f"a{n}", app_name="", endpoint="script", error=_refused(403))
    refusals.systemic_check()  # no raise: every app said something true about itself

    outage = SyncProblems()
    for n in range(SYSTEMIC_STREAK):
        error = QlikUnavailable("HTTP 503") if n % 2 else QlikBadResponse("not JSON")
        outage.failed(app_id=f"a{n}", app_name="", endpoint="script", error=error)
    with pytest.raises(SyncSystemicFailure, match="unavailable, not one app"):
        outage.systemic_check()


def test_an_answer_between_failures_resets_the_streak():
    problems = SyncProblems()
    for n in range(SYSTEMIC_STREAK - 1):
        problems.failed(app_id=f"a{n}", app_name="", endpoint="script", error=QlikUnavailable("x"))
    for _ in range(SYSTEMIC_STREAK):
        problems.answered("script")
    problems.failed(app_id="b", app_name="", endpoint="script", error=QlikUnavailable("x"))
    problems.systemic_check()
