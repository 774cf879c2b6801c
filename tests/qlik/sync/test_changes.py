"""The change log: what a sync records about what changed in the tenant, and where it shows."""

import pytest

from atlas.rls import acting_as
from customers.services import customer_create, project_create
from qlik.fake_tenant import FakeEstate, FakeQlikTenant
from qlik.models import QlikChange, QlikScriptVersion, QlikSyncRun
from qlik.services import qlik_project_sync
from tests.conftest import FAKE_KEY

Kind = QlikChange.Kind


@pytest.fixture
def tenant():
    with FakeQlikTenant(FakeEstate(seed=17, apps=40), api_key=FAKE_KEY) as served:
        yield served


@pytest.fixture
def project(db, system_user, tenant, fast_client_settings):
    with acting_as(system_user):
        customer = customer_create(name="Changing Co", tenant_url=tenant.url, api_key=FAKE_KEY)
        return project_create(customer=customer, name="Changing")


def _sync(project, system_user) -> QlikSyncRun:
    run = qlik_project_sync(project=project, actor=system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    return run


def _changes(system_user, project, run=None) -> list[QlikChange]:
    with acting_as(system_user):
        changes = QlikChange.objects.filter(project=project)
        if run is not None:
            changes = changes.filter(run=run)
        return list(changes.order_by("kind", "object_id"))


def _edit_script(tenant, n: int, extra: str) -> None:
    estate, original = tenant.estate, tenant.estate.app_script
    estate.app_script = lambda m: original(m) + (extra if m == n else "")
    estate.touched_apps[n] = estate.today  # its item says it changed, so the sync refetches it


def test_the_first_sync_records_one_initial_snapshot_and_an_unchanged_resync_records_nothing(
    project, system_user
):
    first = _sync(project, system_user)
    (initial,) = _changes(system_user, project)
    assert initial.kind == Kind.INITIAL_SNAPSHOT
    assert initial.after["apps"] == 40
    with acting_as(system_user):
        assert QlikScriptVersion.objects.filter(project=project).count() == first.counts["qlik_app_scripts"]
    again = _sync(project, system_user)
    assert _changes(system_user, project, run=again) == []
    assert again.counts["qlik_changes"] == 0
    assert "No changes since the previous sync." in again.notes


def test_ten_apps_gone_and_two_script_lines_added_are_exactly_what_the_api_and_the_page_show(
    project, system_user, tenant, client
):
    from customers.services import access_grant

    _sync(project, system_user)
    tenant.estate.removed_apps.update(range(20, 30))
    _edit_script(tenant, 5, "Extra:\nLOAD 1 AS added_line AUTOGENERATE 1;\n")
    second = _sync(project, system_user)

    removed = {tenant.estate.app_guid(n) for n in range(20, 30)}
    with acting_as(system_user):
        access_grant(user=_consultant(), customer=project.customer)
    client.force_login(_consultant())
    body = client.get(f"/api/v1/projects/{project.pk}/changes/", {"page_size": 1000}).json()
    listed = [c for c in (body["results"] if isinstance(body, dict) else body) if c["run_id"] == second.pk]
    by_kind = {}
    for change in listed:
        by_kind.setdefault(change["kind"], set()).add(change["object_id"])
    assert by_kind[Kind.APP_REMOVED] == removed
    assert by_kind[Kind.SCRIPT_CHANGED] == {tenant.estate.app_guid(5)}  # no unchanged app listed
    assert Kind.APP_ADDED not in by_kind
    script_change = next(c for c in listed if c["kind"] == Kind.SCRIPT_CHANGED)
    assert "+Extra:" in script_change["diff"]
    assert "+LOAD 1 AS added_line AUTOGENERATE 1;" in script_change["diff"]
    assert second.counts["qlik_changes"] == len(listed)

    since = client.get(
        f"/api/v1/projects/{project.pk}/changes/",
        {"since": second.started_at.isoformat(), "kind": Kind.APP_REMOVED},
    ).json()
    assert {c["object_id"] for c in (since["results"] if isinstance(since, dict) else since)} == removed

    page = client.get(f"/projects/{project.pk}/changes/").content.decode()
    assert '<span class="diff-add">+Extra:</span>' in page
    assert '<span class="diff-add">+LOAD 1 AS added_line AUTOGENERATE 1;</span>' in page
    assert page.count("App removed") >= 10


def test_a_renamed_moved_app_and_a_changed_connection_are_recorded_without_the_secret(
    project, system_user, tenant, monkeypatch
):
    _sync(project, system_user)
    estate = tenant.estate
    original_item, original_connection = estate.app_item, estate.connections[0]

    def renamed(n):
        item = original_item(n)
        if n == 3:
            item["name"] = item["resourceAttributes"]["name"] = "Renamed app"
            item["spaceId"] = item["resourceAttributes"]["spaceId"] = estate.spaces[-1]["id"]
        return item

    monkeypatch.setattr(estate, "app_item", renamed)
    estate.connections[0] = {
        **original_connection,
        "qName": "Renamed_connection",
        "qConnectStatement": 'CUSTOM CONNECT TO "host=new.example.com;password=hunter2"',
    }
    second = _sync(project, system_user)
    kinds = {(c.kind, c.object_id): c for c in _changes(system_user, project, run=second)}
    guid = estate.app_guid(3)
    assert kinds[(Kind.APP_RENAMED, guid)].after == {"name": "Renamed app"}
    if original_item(3)["spaceId"] != estate.spaces[-1]["id"]:
        assert kinds[(Kind.APP_MOVED, guid)].after["space_id"] == estate.spaces[-1]["id"]
    connection = kinds[(Kind.CONNECTION_CHANGED, original_connection["id"])]
    assert connection.after["name"] == "Renamed_connection"
    assert connection.after["connect_statement_changed"] is True
    assert "hunter2" not in str(connection.before) + str(connection.after)


def test_script_versions_are_kept_once_by_hash_and_bounded_by_retention(
    project, system_user, tenant, settings
):
    settings.QLIK_SCRIPT_VERSIONS_KEPT = 2
    _sync(project, system_user)
    guid = tenant.estate.app_guid(7)
    base = tenant.estate.app_script
    for edit in range(4):
        tenant.estate.app_script = lambda m, edit=edit: base(m) + (f"// edit {edit}\n" if m == 7 else "")
        tenant.estate.touched_apps[7] = tenant.estate.today.replace(hour=edit + 1)
        _sync(project, system_user)
    tenant.estate.app_script = lambda m: base(m) + ("// edit 3\n" if m == 7 else "")  # unchanged again
    tenant.estate.touched_apps[7] = tenant.estate.today.replace(hour=9)
    _sync(project, system_user)
    with acting_as(system_user):
        versions = list(QlikScriptVersion.objects.filter(project=project, app_id=guid))
    current = [v for v in versions if v.last_seen_at is None]
    assert len(current) == 1 and current[0].script.endswith("// edit 3\n")
    assert len(versions) == 1 + 2  # the current one and the two newest past ones
    assert len({v.script_hash for v in versions}) == len(versions)


def _consultant():
    from customers.models import User

    user, _ = User.objects.get_or_create(username="change-reader")
    return user


def test_the_app_page_shows_its_script_history_with_the_diff(project, system_user, tenant, client):
    from customers.services import access_grant

    _sync(project, system_user)
    _edit_script(tenant, 2, "// reviewed by the consultancy\n")
    _sync(project, system_user)
    with acting_as(system_user):
        access_grant(user=_consultant(), customer=project.customer)
    client.force_login(_consultant())
    page = client.get(f"/projects/{project.pk}/apps/{tenant.estate.app_guid(2)}/").content.decode()
    history = page.split('id="script-history"')[1]
    assert "2 versions kept" in history
    assert '<span class="diff-add">+// reviewed by the consultancy</span>' in history
    unchanged = client.get(f"/projects/{project.pk}/apps/{tenant.estate.app_guid(3)}/").content.decode()
    assert "no change to show" in unchanged.split('id="script-history"')[1]
