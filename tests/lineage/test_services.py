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
