"""Builders for a two-tenant world: one row in every tenant table for each customer."""

from dataclasses import dataclass, field

from django.conf import settings

from atlas.rls import acting_as
from customers.models import Customer, Project, User, UserCustomerAccess
from customers.services import access_grant, customer_create, project_create
from lineage.models import LineageEdge, LineageNode
from lineage.services import lineage_graph_replace
from qlik.models import (
    QlikApp,
    QlikAppScript,
    QlikAppUsage,
    QlikChange,
    QlikDataConnection,
    QlikDataset,
    QlikScriptVersion,
    QlikSpace,
    QlikSyncRun,
    QlikUser,
)
from qlik.services import QlikSnapshot, qlik_snapshot_replace, sync_run_finish, sync_run_start

PROJECT_SCOPED_MODELS = (
    QlikSpace,
    QlikApp,
    QlikDataConnection,
    QlikAppUsage,
    QlikAppScript,
    QlikDataset,
    QlikUser,
    LineageNode,
    LineageEdge,
)
# Every table whose rows belong to one project.
PROJECT_MODELS = (*PROJECT_SCOPED_MODELS, QlikSyncRun, QlikScriptVersion, QlikChange)
TENANT_MODELS = (Customer, Project, UserCustomerAccess, *PROJECT_MODELS)


def snapshot_for(tag: str, apps: int = 1) -> QlikSnapshot:
    space = {"id": f"space-{tag}", "name": f"Space {tag}", "type": "shared"}
    app_ids = [f"app-{tag}-{n}" for n in range(apps)]
    return QlikSnapshot(
        spaces=[space],
        apps=[
            {"item": {"resourceId": app_id, "name": f"App {app_id}", "spaceId": space["id"]}}
            for app_id in app_ids
        ],
        data_connections=[{"id": f"conn-{tag}", "qName": f"Conn {tag}", "qType": "folder"}],
        scripts={app_id: f"LOAD * FROM [lib://Files/{tag}.qvd] (qvd);" for app_id in app_ids},
        usage=[{"appId": app_id, "appName": app_id, "usageClassification": "active"} for app_id in app_ids],
        users=[{"id": f"user-{tag}", "name": f"Owner {tag}", "email": f"owner@{tag}.example.com"}],
        datasets=[
            {
                "id": f"dataset-{tag}",
                "name": f"{tag}.qvd",
                "resourceType": "dataset",
                "resourceSubType": "qix-df",
                "spaceId": space["id"],
                "resourceAttributes": {"secureQri": f"qri:qdf:space://{tag}#file", "size": 1024},
            }
        ],
    )


@dataclass
class Tenant:
    customer: Customer
    project: Project
    user: User
    api_key: str
    rows: dict = field(default_factory=dict)  # model -> a row of this tenant


def tenant_create(tag: str, *, apps: int = 1) -> Tenant:
    """A customer with a project holding rows in every tenant table, and a granted user."""
    system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
    user = User.objects.create_user(username=f"user-{tag}", password="x")
    api_key = f"qlik-api-key-{tag}-0123456789"
    with acting_as(system):
        customer = customer_create(
            name=f"Customer {tag}", tenant_url=f"https://{tag}.example.com", api_key=api_key
        )
        project = project_create(customer=customer, name=f"Project {tag}")
        grant = access_grant(user=user, customer=customer)
        qlik_snapshot_replace(project=project, snapshot=snapshot_for(tag, apps=apps))
        lineage_graph_replace(
            project=project,
            nodes=[
                {"id": f"app:app-{tag}-0", "type": "app", "label": "app", "app_id": f"app-{tag}-0"},
                {"id": f"file:{tag}.qvd", "type": "file", "label": f"{tag}.qvd"},
            ],
            edges=[{"source": f"file:{tag}.qvd", "target": f"app:app-{tag}-0", "relation": "loads"}],
        )
        run = sync_run_start(project=project, trigger=QlikSyncRun.Trigger.COMMAND, requested_by=system)
        sync_run_finish(run=run, counts={"qlik_apps": apps})
        version = QlikScriptVersion.objects.create(
            project=project,
            app_id=f"app-{tag}-0",
            script_hash="0" * 64,
            script="",
            first_seen_at=run.started_at,
        )
        QlikChange.objects.create(
            project=project,
            run=run,
            detected_at=run.started_at,
            kind=QlikChange.Kind.SCRIPT_CHANGED,
            object_id=f"app-{tag}-0",
            script_to=version,
        )
        rows = {Customer: customer, Project: project, UserCustomerAccess: grant}
        for model in PROJECT_MODELS:
            rows[model] = model.objects.filter(project=project).first()
    return Tenant(customer=customer, project=project, user=user, api_key=api_key, rows=rows)
