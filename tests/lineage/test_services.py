"""Storing a lineage graph keeps the apps' summary columns true."""

from customers.services import customer_create, project_create
from lineage.services import lineage_graph_replace
from qlik.models import QlikApp
from qlik.services import QlikSnapshot, qlik_snapshot_replace


def test_replacing_the_graph_updates_every_apps_lineage_columns(as_system):
    project = project_create(customer=customer_create(name="C", tenant_url="https://c.example.com"), name="P")
    qlik_snapshot_replace(
        project=project,
        snapshot=QlikSnapshot(
            apps=[{"item": {"resourceId": guid}} for guid in ("extract", "dash", "orphan")]
        ),
    )
    lineage_graph_replace(
        project=project,
        nodes=[
            {"id": "app:extract", "type": "app", "app_id": "extract"},
            {"id": "app:dash", "type": "app", "app_id": "dash"},
            {"id": "file:orders.qvd", "type": "file"},
            {"id": "table:dwh:orders", "type": "table"},
        ],
        edges=[
            {"source": "table:dwh:orders", "target": "app:extract", "relation": "loads"},
            {"source": "app:extract", "target": "file:orders.qvd", "relation": "stores"},
            {"source": "file:orders.qvd", "target": "app:dash", "relation": "loads"},
        ],
    )
    summary = {
        app.app_id: (app.rootNodeId, app.nodesCount, app.edgesCount, app.lineageFetched, app.lineageSuccess)
        for app in QlikApp.objects.filter(project=project)
    }
    assert summary == {
        "extract": ("app:extract", 3, 2, True, True),
        "dash": ("app:dash", 2, 1, True, True),
        "orphan": ("", 0, 0, True, False),
    }


def test_a_tenant_with_the_lineage_api_off_still_gets_its_graph_from_scripts_and_reloads(
    db, system_user, fast_client_settings
):
    from atlas.rls import acting_as
    from lineage.models import LineageEdge
    from qlik.fake_tenant import FakeEstate, FakeQlikTenant
    from qlik.services import qlik_project_sync
    from tests.qlik.conftest import FAKE_KEY

    with FakeQlikTenant(FakeEstate(seed=5, apps=8), api_key=FAKE_KEY) as tenant:
        tenant.switches.lineage_api = False
        with acting_as(system_user):
            project = project_create(
                customer=customer_create(name="Off", tenant_url=tenant.url, api_key=FAKE_KEY), name="P"
            )
        run = qlik_project_sync(project=project, actor=system_user)
        assert run.status == "succeeded", run.error
        assert tenant.requests["lineage-graphs/nodes/{qri}"] == 8  # asked, and told "not here"
    with acting_as(system_user):
        sources = {
            s
            for data in LineageEdge.objects.filter(project=project).values_list("data", flat=True)
            for s in data["sources"]
        }
        model = QlikApp.objects.get(project=project, app_id=tenant.estate.app_guid(1))
    assert sources == {"script", "reload_metadata"}
    assert (model.lineageFetched, model.lineageSuccess, model.edgesCount > 0) == (True, True, True)
