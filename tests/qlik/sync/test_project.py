"""The sync against tenants that answer as real ones do: per-app 403s and 404s, ghosts,
features off, odd shapes — and what only the key or a listing may fail."""

import pytest

from atlas.rls import acting_as
from customers.services import customer_create, project_create
from qlik.fake_tenant import FakeEstate, FakeQlikTenant, Switches
from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    QlikDataConnection,
    QlikDataset,
    QlikSpace,
    QlikSyncRun,
)
from qlik.services import qlik_project_sync
from tests.conftest import FAKE_KEY

PER_APP = (
    "/api/v1/apps/{appId}",
    "/api/v1/apps/{appId}/scripts/current",
    "/api/v1/apps/{appId}/reloads/metadata/{reloadId}",
    "/api/v1/lineage-graphs/nodes/{qri}",
)
SCRIPTS = "/api/v1/apps/{appId}/scripts/current"
RELOAD_METADATA = "/api/v1/apps/{appId}/reloads/metadata/{reloadId}"
LINEAGE = "/api/v1/lineage-graphs/nodes/{qri}"


@pytest.fixture
def tenant():
    with FakeQlikTenant(FakeEstate(seed=11, apps=60), api_key=FAKE_KEY) as served:
        yield served


@pytest.fixture
def project(db, system_user, tenant, fast_client_settings):
    with acting_as(system_user):
        customer = customer_create(name="Real-ish Co", tenant_url=tenant.url, api_key=FAKE_KEY)
        return project_create(customer=customer, name="Real-ish")


def _sync(project, system_user, **kwargs) -> QlikSyncRun:
    return qlik_project_sync(project=project, actor=system_user, **kwargs)


def _count(system_user, project, model, **filters) -> int:
    with acting_as(system_user):
        return model.objects.filter(project=project, **filters).count()


def _problem_counts(run) -> dict[tuple[str, str], int]:
    return {(entry["endpoint"], entry["status"]): entry["apps"] for entry in run.problems.get("counts", [])}


def _per_app_calls(run) -> int:
    return sum(run.calls_by_endpoint.get(endpoint, 0) for endpoint in PER_APP)


def test_a_tenant_refusing_reload_metadata_lineage_and_a_tenth_of_scripts_still_syncs_every_app(
    project, system_user, tenant
):
    switches = tenant.switches
    switches.reload_metadata_api, switches.lineage_api = False, False
    switches.forbidden_scripts_every, switches.ghost_apps = 10, 1
    run = _sync(project, system_user)

    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    listed = 60 + 1  # the ghost is listed: it is stored with what the listing gave
    assert _count(system_user, project, QlikApp) == listed
    assert _count(system_user, project, QlikAppUsage) == listed
    assert _count(system_user, project, QlikSpace) == tenant.estate.space_count
    assert _count(system_user, project, QlikDataConnection) == tenant.estate.connection_count
    forbidden = [n for n in range(60) if Switches.every(10, n)]
    assert len(forbidden) == 6
    assert _count(system_user, project, QlikAppScript) == 60 - len(forbidden)  # every readable one
    counts = _problem_counts(run)
    assert counts[("script", "403")] == len(forbidden)
    assert counts[("script", "404")] == 1  # the ghost
    # Then found off (a few more may already be in flight on the client's other threads) ...
    assert 20 <= counts[("reload_metadata", "404")] <= 20 + 4
    assert {entry["endpoint"] for entry in run.problems["skipped"]} == {"reload_metadata", "lineage"}
    assert "6 apps: script not readable (403)" in run.notes
    assert "not asked for the rest of this sync" in run.notes
    assert run.apps_with_problems >= len(forbidden) + 1
    with acting_as(system_user):
        refused = QlikApp.objects.get(project=project, app_id=tenant.estate.app_guid(forbidden[0]))
    assert {"endpoint": "script", "status": "403", "reason": "script not readable"} in refused.data[
        "problems"
    ]
    assert _per_app_calls(run) <= 2 * listed  # ... so skipping never costs more than two per app


def test_a_tenant_where_every_script_answers_403_still_gets_its_apps_spaces_and_usage(
    project, system_user, tenant
):
    tenant.switches.forbidden_scripts_every = 1
    run = _sync(project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    assert _count(system_user, project, QlikApp) == 60
    assert _count(system_user, project, QlikAppUsage) == 60
    assert _count(system_user, project, QlikSpace) == tenant.estate.space_count
    assert _count(system_user, project, QlikAppScript) == 0
    assert _problem_counts(run)[("script", "403")] == 60
    assert "credentials" not in run.notes.lower()


def test_a_full_sync_makes_at_most_two_calls_per_app_and_an_unchanged_resync_only_listing_pages(
    project, system_user, tenant
):
    full = _sync(project, system_user)
    assert full.status == QlikSyncRun.Status.SUCCEEDED, full.error
    assert full.calls_by_endpoint.get("/api/v1/apps/{appId}", 0) == 0  # attributes came with the items
    assert full.calls_by_endpoint[SCRIPTS] == 60
    reloaded = sum(1 for n in range(60) if tenant.estate.app_item(n).get("resourceReloadEndTime"))
    assert 0 < reloaded < 60
    # One lineage source per reloaded app; an app never reloaded has none to ask for.
    assert full.calls_by_endpoint[RELOAD_METADATA] + full.calls_by_endpoint.get(LINEAGE, 0) == reloaded
    assert _per_app_calls(full) <= 2 * 60
    assert full.api_calls == tenant.calls()
    again = _sync(project, system_user)
    assert again.status == QlikSyncRun.Status.SUCCEEDED, again.error
    assert _per_app_calls(again) == 0
    assert again.apps_carried == 60


def test_an_app_gone_between_the_listing_and_its_details_is_stored_from_the_listing(
    project, system_user, tenant
):
    tenant.switches.ghost_apps = 1
    run = _sync(project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    ghost = next(entry for entry in run.problems["apps"] if entry["status"] == "404")
    assert ghost["reason"] == "app gone before its script was read"
    with acting_as(system_user):
        stored = QlikApp.objects.get(project=project, app_id=ghost["app_id"])
    assert stored.appName  # what the listing said is kept


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/api/v1/users/me", 403, "credentials rejected"),
        ("/api/v1/spaces", 403, "Could not read the spaces listing (403)"),
        ("/api/v1/data-connections", 404, "Could not read the data connections listing (404)"),
    ],
    ids=["key-powerless", "spaces-refused", "connections-missing"],
)
def test_only_the_key_or_a_listing_fails_the_sync_and_the_previous_snapshot_stays(
    project, system_user, tenant, path, status, expected
):
    assert _sync(project, system_user).status == QlikSyncRun.Status.SUCCEEDED
    before = _count(system_user, project, QlikApp)
    tenant.switches.fail_paths = {path: status}
    run = _sync(project, system_user)
    assert run.status == QlikSyncRun.Status.FAILED
    assert expected in run.error
    if "credentials" not in expected:
        assert "credentials" not in run.error.lower()  # support is not sent to rotate a working key
    assert _count(system_user, project, QlikApp) == before == 60


def test_a_403_on_audits_is_noted_as_a_missing_right_not_as_rejected_credentials(
    project, system_user, tenant
):
    tenant.switches.fail_paths = {"/api/v1/audits": 403}
    run = _sync(project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    assert "Sheet views not counted: the key may not read audit events (403" in run.notes
    assert "credentials" not in run.notes.lower()


def test_apps_without_view_counts_and_without_audits_are_classed_no_usage_data_not_unused(
    project, system_user, tenant
):
    tenant.switches.missing_item_views_every = 4
    tenant.switches.fail_paths = {"/api/v1/audits": 403}
    assert _sync(project, system_user).status == QlikSyncRun.Status.SUCCEEDED
    estate = tenant.estate
    # The served items: every 4th has no itemViews, the one after it `{}`.
    blind = [n for n in range(60) if Switches.every(4, n) or (n and n % 4 == 0)]
    assert blind
    with acting_as(system_user):
        classes = dict(
            QlikAppUsage.objects.filter(project=project).values_list("app_id", "usageClassification")
        )
    for n in blind:
        reloaded = bool(estate.app_reloads(n)) or estate.app_item(n).get("resourceReloadEndTime")
        assert classes[estate.app_guid(n)] == ("no_usage_data" if reloaded else "never_reloaded")
    assert "unused" not in {classes[estate.app_guid(n)] for n in blind}


def test_wrapped_reload_metadata_is_read_like_the_plain_object(project, system_user, tenant):
    tenant.switches.wrapped_reload_metadata = True
    run = _sync(project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    assert ("reload_metadata", "malformed") not in _problem_counts(run)
    with acting_as(system_user):
        extract = QlikApp.objects.get(project=project, app_id=tenant.estate.app_guid(0))
    assert extract.data["reloadMetadata"]["statements"]


def test_a_malformed_answer_for_one_app_costs_only_that_apps_detail(project, system_user, tenant):
    guid = tenant.estate.app_guid(4)
    tenant.switches.malformed_paths = {f"/api/v1/apps/{guid}/scripts"}  # a proxy's HTML page
    run = _sync(project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    assert _problem_counts(run) == {("script", "malformed"): 1}
    assert "1 app: script answered malformed" in run.notes
    assert _count(system_user, project, QlikAppScript) == 59


def test_malformed_answers_for_every_app_are_systemic_and_keep_the_previous_snapshot(
    project, system_user, tenant
):
    assert _sync(project, system_user).status == QlikSyncRun.Status.SUCCEEDED
    tenant.estate.touched_apps.update(dict.fromkeys(range(60), tenant.estate.today))  # all changed
    tenant.switches.malformed_paths = {"/api/v1/apps/"}
    run = _sync(project, system_user)
    assert run.status == QlikSyncRun.Status.FAILED
    assert "unavailable, not one app" in run.error
    assert _count(system_user, project, QlikAppScript) == 60


def test_connections_listed_with_qid_but_no_id_are_stored_by_qid(project, system_user, tenant):
    tenant.switches.connections_without_id = True
    run = _sync(project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    source = tenant.estate.connections[0]
    with acting_as(system_user):
        stored = QlikDataConnection.objects.get(project=project, connection_id=source["qID"])
    assert stored.qName == source["qName"]


def test_spaces_answered_without_links_are_read_as_one_page(project, system_user, tenant):
    tenant.switches.spaces_without_links = True
    assert _sync(project, system_user).status == QlikSyncRun.Status.SUCCEEDED
    assert _count(system_user, project, QlikSpace) == tenant.estate.space_count


def test_app_name_space_and_owner_only_in_resource_attributes_are_kept(
    project, system_user, tenant, monkeypatch
):
    estate = tenant.estate
    original = estate.app_item

    def sparse_item(n):  # what some tenants answer: the attributes only under resourceAttributes
        item = original(n)
        for key in ("name", "spaceId", "ownerId"):
            item.pop(key, None)
        return item

    monkeypatch.setattr(estate, "app_item", sparse_item)
    assert _sync(project, system_user).status == QlikSyncRun.Status.SUCCEEDED
    expected = original(3)["resourceAttributes"]
    with acting_as(system_user):
        app = QlikApp.objects.get(project=project, app_id=estate.app_guid(3))
    assert (app.appName, app.spaceId, app.ownerId) == (
        expected["name"],
        expected.get("spaceId") or None,
        expected["ownerId"],
    )
    assert app.published == expected["published"]


def test_datasets_are_stored_and_every_data_file_is_a_named_node_orphans_included(
    project, system_user, tenant
):
    from lineage.models import LineageEdge, LineageNode

    run = _sync(project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    with acting_as(system_user):
        datasets = list(QlikDataset.objects.filter(project=project, resourceSubType="qix-df"))
        assert datasets
        nodes = {
            node.data.get("dataset_id"): node
            for node in LineageNode.objects.filter(project=project, type="file").exclude(
                data__dataset_id=None
            )
        }
        connected = set(LineageEdge.objects.filter(project=project).values_list("source", flat=True)) | set(
            LineageEdge.objects.filter(project=project).values_list("target", flat=True)
        )
    assert {dataset.dataset_id for dataset in datasets} <= set(nodes)
    orphans = [dataset for dataset in datasets if nodes[dataset.dataset_id].node_id not in connected]
    assert orphans  # files no script mentions are in the graph too
    node = nodes[datasets[0].dataset_id]
    assert node.data["size"] == datasets[0].size


def test_owners_get_their_names_from_the_users_listing_and_a_refused_listing_is_only_noted(
    project, system_user, tenant
):
    from qlik.models import QlikUser
    from qlik.selectors import app_list

    assert _sync(project, system_user).status == QlikSyncRun.Status.SUCCEEDED
    item = tenant.estate.app_item(5)
    with acting_as(system_user):
        app = app_list(project=project).get(app_id=item["resourceId"])
        owner = QlikUser.objects.get(project=project, user_id=item["ownerId"])
    assert app.owner_name == owner.name == item["resourceAttributes"]["owner"]
    assert owner.name

    tenant.switches.fail_paths = {"/api/v1/users$": 403}  # the listing, not users/me
    run = _sync(project, system_user)
    assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
    assert "Owners shown by id: the key may not list users (403" in run.notes
