"""The sync against a fake Qlik Cloud tenant on a real socket: what it stores and how it fails."""

import json

import pytest
from django.db import connection
from django.utils import timezone

from atlas.rls import acting_as
from customers.services import customer_create, project_create
from qlik.models import QlikApp, QlikAppScript, QlikAppUsage, QlikDataConnection, QlikSpace, QlikSyncRun
from qlik.services import (
    SyncAlreadyRunning,
    qlik_artifacts_import,
    qlik_project_sync,
    sync_run_finish,
    sync_run_start,
)
from tests.qlik.conftest import FAKE_KEY

SYNCED = (QlikSpace, QlikApp, QlikDataConnection, QlikAppScript, QlikAppUsage)


def _rows(system_user, project) -> dict[str, int]:
    with acting_as(system_user):
        return {m._meta.db_table: m.objects.filter(project=project).count() for m in SYNCED}


def _sync(project, system_user, **kwargs) -> QlikSyncRun:
    return qlik_project_sync(project=project, actor=system_user, **kwargs)


def test_a_sync_stores_everything_the_tenant_served_across_pages(synced_project, system_user, fake_tenant):
    estate = fake_tenant.estate
    run = _sync(synced_project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    assert fake_tenant.requests["items"] >= 3  # 250 apps: three pages of 100, then datasets
    assert _rows(system_user, synced_project) == {
        "qlik_spaces": estate.space_count,
        "qlik_apps": 250,
        "qlik_data_connections": estate.connection_count,
        "qlik_app_scripts": 250,
        "qlik_app_usage": 250,
    }
    assert run.counts["qlik_apps"] == 250
    assert run.api_calls == fake_tenant.calls()
    with acting_as(system_user):
        item = estate.app_item(17)
        app = QlikApp.objects.get(project=synced_project, app_id=item["resourceId"])
        assert (app.appName, app.spaceId) == (item["name"], item["spaceId"])
        assert app.status == item["resourceReloadStatus"]
        assert app.fileName == f"{item['resourceId']}.qvf"
        assert app.data["item"] == json.loads(json.dumps(item))  # the untouched API object
        script = QlikAppScript.objects.get(project=synced_project, app_id=item["resourceId"])
        assert script.script == estate.app_script(17)
        source = estate.connections[3]
        stored = QlikDataConnection.objects.get(project=synced_project, connection_id=source["id"])
        for column in (
            "qName",
            "qType",
            "qri",
            "space",
            "qConnectStatement",
            "datasourceID",
            "qEngineObjectID",
        ):
            assert getattr(stored, column) == source[column], column
        assert stored.qlik_id == source["id"]
        usage = QlikAppUsage.objects.get(project=synced_project, app_id=item["resourceId"])
        assert usage.usageAppOpens == item["itemViews"]["total"]
        assert usage.windowDays == 28
    assert "data-connections/{id}" not in fake_tenant.requests  # the GET that carries the secret


def test_usage_classification_follows_the_documented_rule(synced_project, system_user, fake_tenant, settings):
    settings.QLIK_LOW_USE_THRESHOLD = 10
    _sync(synced_project, system_user)
    with acting_as(system_user):
        rows = list(QlikAppUsage.objects.filter(project=synced_project))
    kinds = {row.usageClassification for row in rows}
    assert kinds == {"active", "low_use", "unused", "never_reloaded"}
    for row in rows:
        views = row.usageAppOpens + row.usageSheetViews
        if row.usageLastReloadAt is None:
            assert row.usageClassification == "never_reloaded"
        elif views == 0:
            assert row.usageClassification == "unused"
        else:
            assert row.usageClassification == ("low_use" if views < 10 else "active")


def test_an_unchanged_resync_fetches_no_app_details_and_a_changed_app_is_refetched(
    synced_project, system_user, fake_tenant
):
    first = _sync(synced_project, system_user)
    fake_tenant.requests.clear()
    again = _sync(synced_project, system_user)
    assert again.status == QlikSyncRun.Status.SUCCEEDED, again.error
    assert (again.apps_fetched, again.apps_carried) == (0, 250)
    assert fake_tenant.requests["apps/{id}"] == 0
    assert again.api_calls < first.api_calls / 10
    assert _rows(system_user, synced_project)["qlik_app_scripts"] == 250  # carried, not lost

    fake_tenant.estate.touched_apps[5] = timezone.now()
    fake_tenant.requests.clear()
    changed = _sync(synced_project, system_user)
    assert (changed.apps_fetched, fake_tenant.requests["apps/{id}/scripts/current"]) == (1, 1)
    full = _sync(synced_project, system_user, full=True)
    assert full.apps_fetched == 250


def test_apps_that_vanished_from_the_tenant_are_removed(synced_project, system_user, fake_tenant):
    _sync(synced_project, system_user)
    gone = fake_tenant.estate.app_guid(3)
    fake_tenant.estate.removed_apps.add(3)
    _sync(synced_project, system_user)
    with acting_as(system_user):
        for model in (QlikApp, QlikAppScript, QlikAppUsage):
            assert not model.objects.filter(project=synced_project, app_id=gone).exists(), model
        assert QlikApp.objects.filter(project=synced_project).count() == 249


def test_a_429_storm_is_ridden_out_with_waits_that_honour_retry_after(
    synced_project, system_user, fake_tenant, monkeypatch
):
    waits = []
    monkeypatch.setattr("qlik.client.time.sleep", waits.append)
    fake_tenant.switches.rate_limit_burst = 5
    fake_tenant.switches.retry_after = 7
    run = _sync(synced_project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    assert run.rate_limited == 5
    assert len(waits) == 5
    assert all(7 <= wait < 8 for wait in waits), waits
    assert _rows(system_user, synced_project)["qlik_apps"] == 250


def _previous_snapshot(synced_project, system_user) -> dict[str, int]:
    first = _sync(synced_project, system_user)
    assert first.status == QlikSyncRun.Status.SUCCEEDED
    return _rows(system_user, synced_project)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ({"fail_paths": {"/api/v1/apps/": 500}}, "unavailable, not one app"),
        ({"malformed_paths": {"/api/v1/data-connections"}}, "did not answer JSON"),
    ],
    ids=["permanent-500", "malformed-json"],
)
def test_a_failing_sync_is_recorded_and_keeps_the_previous_snapshot(
    synced_project, system_user, fake_tenant, monkeypatch, breakage, message
):
    monkeypatch.setattr("qlik.client.time.sleep", lambda seconds: None)
    before = _previous_snapshot(synced_project, system_user)
    fake_tenant.estate.touched_apps.update({n: timezone.now() for n in range(250)})  # force refetch
    for name, value in breakage.items():
        setattr(fake_tenant.switches, name, value)
    run = _sync(synced_project, system_user)
    assert run.status == QlikSyncRun.Status.FAILED
    assert message in run.error
    assert FAKE_KEY not in run.error
    assert _rows(system_user, synced_project) == before


def test_rejected_credentials_fail_at_once_without_a_retry_loop(synced_project, system_user, fake_tenant):
    fake_tenant.api_key = "another-key"
    run = _sync(synced_project, system_user)
    assert run.status == QlikSyncRun.Status.FAILED
    assert "credentials rejected" in run.error
    assert fake_tenant.requests["401"] == 1
    assert FAKE_KEY not in run.error


def test_a_second_sync_of_a_running_project_is_refused_while_the_first_lives(synced_project, system_user):
    with acting_as(system_user, project=synced_project):
        first = sync_run_start(project=synced_project, trigger=QlikSyncRun.Trigger.COMMAND)
        with pytest.raises(SyncAlreadyRunning, match=f"run #{first.pk}"):
            sync_run_start(project=synced_project, trigger=QlikSyncRun.Trigger.COMMAND)
        sync_run_finish(run=first)
        second = sync_run_start(project=synced_project, trigger=QlikSyncRun.Trigger.COMMAND)
        sync_run_finish(run=second)
    assert (first.status, second.status) == (QlikSyncRun.Status.SUCCEEDED, QlikSyncRun.Status.SUCCEEDED)


def test_a_run_left_running_by_a_dead_process_is_closed_at_once_by_the_next_sync(synced_project, system_user):
    with acting_as(system_user, project=synced_project):
        # What a killed process leaves: a run marked running, with no live lock behind it.
        dead = QlikSyncRun.objects.create(project=synced_project, trigger=QlikSyncRun.Trigger.COMMAND)
    run = _sync(synced_project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    with acting_as(system_user, project=synced_project):
        dead.refresh_from_db()
    assert dead.status == QlikSyncRun.Status.FAILED
    assert "Interrupted" in dead.error


def test_a_sync_acting_for_one_project_cannot_touch_another(synced_project, system_user, fake_tenant):
    with acting_as(system_user):
        other = project_create(
            customer=customer_create(name="Other Co", tenant_url="https://other.example.com"), name="Other"
        )
    _sync(synced_project, system_user)
    with acting_as(system_user):
        assert QlikApp.objects.filter(project=synced_project).count() == 250  # the rows exist
    with acting_as(system_user, project=other), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM qlik_apps WHERE project_id = %s", [synced_project.pk])
        assert cursor.fetchone()[0] == 0
        cursor.execute("DELETE FROM qlik_apps WHERE project_id = %s", [synced_project.pk])
        assert cursor.rowcount == 0
    assert _rows(system_user, synced_project)["qlik_apps"] == 250


def test_an_offline_import_goes_through_the_same_storage_and_names_its_file(
    synced_project, system_user, fake_tenant, tmp_path
):
    estate = fake_tenant.estate
    (tmp_path / "spaces.json").write_text(json.dumps({"data": estate.spaces}))
    (tmp_path / "items.json").write_text(json.dumps([estate.app_item(n) for n in range(3)]))
    (tmp_path / "data-connections.json").write_text(json.dumps(estate.connections))
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / f"{estate.app_guid(0)}.qvs").write_text(estate.app_script(0))
    run = qlik_artifacts_import(project=synced_project, directory=str(tmp_path), actor=system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    assert run.trigger == QlikSyncRun.Trigger.IMPORT
    rows = _rows(system_user, synced_project)
    assert rows["qlik_apps"] == 3
    assert rows["qlik_spaces"] == estate.space_count
    with acting_as(system_user):
        usage = QlikAppUsage.objects.get(project=synced_project, app_id=estate.app_guid(0))
        script = QlikAppScript.objects.get(project=synced_project, app_id=estate.app_guid(0))
    assert usage.artifactFileName == "items.json"
    assert script.script == estate.app_script(0)


def test_a_malformed_artifact_names_the_file_and_keeps_the_previous_data(
    synced_project, system_user, fake_tenant, tmp_path
):
    before = _previous_snapshot(synced_project, system_user)
    (tmp_path / "items.json").write_text('[{"resourceId": "x"}, 42]')
    run = qlik_artifacts_import(project=synced_project, directory=str(tmp_path), actor=system_user)
    assert run.status == QlikSyncRun.Status.FAILED
    assert "items.json: entry 1 is not an object" in run.error
    assert _rows(system_user, synced_project) == before


def test_test_connection_reports_ok_or_the_tenants_words_never_the_key(
    synced_project, system_user, fake_tenant
):
    from customers.services import customer_connection_check
    from qlik.client import QlikCredentialsRejected

    with acting_as(system_user):
        customer = synced_project.customer
        assert "connected to" in customer_connection_check(customer=customer)
        fake_tenant.api_key = "rotated-elsewhere"
        with pytest.raises(QlikCredentialsRejected, match="Invalid API key") as rejected:
            customer_connection_check(customer=customer)
    assert FAKE_KEY not in str(rejected.value)


def test_a_sync_that_adds_many_apps_refreshes_the_planners_statistics(synced_project, system_user, settings):
    from django.db import connection

    def estimated_apps() -> float:
        with connection.cursor() as cursor:  # the catalog, readable by the runtime role
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'qlik_apps'")
            return cursor.fetchone()[0]

    settings.QLIK_STATISTICS_REFRESH_APPS = 200
    before = estimated_apps()
    first = _sync(synced_project, system_user)  # 0 → 250 apps
    assert first.statistics_refreshed_at is not None
    with acting_as(system_user):
        apps = QlikApp.objects.count()
    assert apps >= 250 and before != apps
    assert estimated_apps() == apps  # ANALYZE counted every row, all tenants
    again = _sync(synced_project, system_user)  # 250 → 250: nothing to refresh
    assert again.status == QlikSyncRun.Status.SUCCEEDED and again.statistics_refreshed_at is None
