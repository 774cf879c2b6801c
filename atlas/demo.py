"""Demo data for `make run`: two customers with small but realistic Qlik estates.

Loaded once (skipped when "Acme Analytics" exists), through the same services a sync uses,
with users admin / support / consultant on the embedded database only.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from customers.models import Customer, User
from customers.permissions import CHANGE_CUSTOMER
from customers.services import access_grant, customer_create, project_create
from lineage.services import lineage_graph_replace
from qlik.services import QlikSnapshot, qlik_snapshot_replace

DEMO_NAMESPACE = uuid.UUID("6f1c2b1e-8d0a-4c55-9a51-2f4c8e9b7a10")

# customer -> (tenant, project, spaces, connections, apps)
# app: (name, space, reload status, views, unique users, days since reload, script)
ESTATES = {
    "Acme Analytics": {
        "tenant": "https://acme-analytics.eu.qlikcloud.com",
        "project": "Acme Cloud",
        "spaces": [("Sales", "shared"), ("Finance", "managed"), ("Data", "data")],
        "connections": [
            ("Snowflake_DWH", "snowflake", "Data"),
            ("DataFiles", "folder", "Data"),
            ("SharePoint_Finance", "sharepoint", "Finance"),
        ],
        "apps": [
            (
                "Sales Extract",
                "Data",
                "ok",
                2,
                1,
                0,
                "LIB CONNECT TO 'Snowflake_DWH';\nOrders:\nSQL SELECT * FROM SALES.PUBLIC.ORDERS;\n"
                "STORE Orders INTO [lib://DataFiles/Orders.qvd] (qvd);",
            ),
            (
                "Sales Model",
                "Data",
                "ok",
                4,
                2,
                0,
                "Orders:\nLOAD * FROM [lib://DataFiles/Orders.qvd] (qvd);\n"
                "STORE Orders INTO [lib://DataFiles/SalesModel.qvd] (qvd);",
            ),
            (
                "Sales Dashboard",
                "Sales",
                "ok",
                184,
                23,
                1,
                "Sales:\nLOAD * FROM [lib://DataFiles/SalesModel.qvd] (qvd);",
            ),
            (
                "Finance Overview",
                "Finance",
                "ok",
                37,
                6,
                2,
                "LOAD * FROM [lib://SharePoint_Finance/Budget.xlsx] (ooxml, embedded labels);",
            ),
            (
                "HR Headcount",
                "Finance",
                "failed",
                0,
                0,
                45,
                "LOAD * FROM [lib://DataFiles/Headcount.csv] (txt, utf8, embedded labels);",
            ),
            ("Old Forecast", "Sales", "", 0, 0, None, "LOAD * INLINE [Month, Forecast\nJan, 100];"),
        ],
    },
    "Globex Retail": {
        "tenant": "https://globex-retail.us.qlikcloud.com",
        "project": "Globex Stores",
        "spaces": [("Stores", "shared"), ("Supply", "data")],
        "connections": [("Postgres_ERP", "postgres", "Supply"), ("StoreFiles", "folder", "Supply")],
        "apps": [
            (
                "Inventory Extract",
                "Supply",
                "ok",
                1,
                1,
                0,
                "LIB CONNECT TO 'Postgres_ERP';\nStock:\nSQL SELECT * FROM erp.stock;\n"
                "STORE Stock INTO [lib://StoreFiles/Stock.qvd] (qvd);",
            ),
            (
                "Store Performance",
                "Stores",
                "ok",
                92,
                14,
                1,
                "LOAD * FROM [lib://StoreFiles/Stock.qvd] (qvd);",
            ),
        ],
    },
}


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, "/".join(parts)))


def _classify(views: int, days_since_reload: int | None) -> str:
    if days_since_reload is None:
        return "never_reloaded"
    if views == 0:
        return "unused"
    return "active" if views >= 10 else "low_use"


def _estate_snapshot(customer: str, estate: dict) -> tuple[QlikSnapshot, list[dict], list[dict]]:
    now = timezone.now()
    tenant_id = _guid(customer, "tenant")
    spaces = {
        name: {
            "id": _guid(customer, "space", name)[:24].replace("-", "a"),
            "name": name,
            "type": kind,
            "ownerId": _guid(customer, "owner"),
            "tenantId": tenant_id,
            "createdAt": (now - timedelta(days=400)).isoformat(),
            "updatedAt": (now - timedelta(days=30)).isoformat(),
        }
        for name, kind in estate["spaces"]
    }
    connections = [
        {
            "id": _guid(customer, "connection", name),
            "qID": _guid(customer, "connection", name),
            "qName": name,
            "qType": kind,
            "qConnectStatement": f'CUSTOM CONNECT TO "provider={kind};"',
            "space": spaces[space]["id"],
            "tenant": tenant_id,
            "user": _guid(customer, "owner"),
            "created": (now - timedelta(days=300)).isoformat(),
            "updated": (now - timedelta(days=20)).isoformat(),
            "version": "V1",
            "qri": f"qri:db:{kind}://{name.lower()}",
            "tags": [],
            "links": {},
            "privileges": ["read", "update", "delete", "list"],
            "datasourceID": kind,
            "qArchitecture": "0",
            "qLogOn": "0",
            "qSeparateCredentials": False,
            "qCredentialsID": "",
            "qEngineObjectID": _guid(customer, "connection", name),
        }
        for name, kind, space in estate["connections"]
    ]
    apps, usage, scripts = [], [], {}
    nodes = [
        {"id": f"connection:{c['qName'].lower()}", "type": "connection", "label": c["qName"]}
        for c in connections
    ]
    edges: list[dict] = []
    for name, space, status, views, users, days, script in estate["apps"]:
        guid = _guid(customer, "app", name)
        reloaded = None if days is None else (now - timedelta(days=days)).isoformat()
        apps.append(
            {
                "item": {
                    "id": guid.replace("-", "")[:24],
                    "resourceId": guid,
                    "resourceType": "app",
                    "name": name,
                    "spaceId": spaces[space]["id"],
                    "ownerId": _guid(customer, "owner"),
                    "tenantId": tenant_id,
                    "resourceReloadStatus": status,
                    "resourceReloadEndTime": reloaded,
                    "resourceUpdatedAt": (now - timedelta(days=(days or 60) + 1)).isoformat(),
                    "itemViews": {"total": views, "unique": users},
                },
                "attributes": {"id": guid, "name": name, "lastReloadTime": reloaded},
            }
        )
        scripts[guid] = script
        usage.append(
            {
                "appId": guid,
                "appName": name,
                "windowDays": 28,
                "generatedAt": now.isoformat(),
                "usageReloads": 0 if days is None else 28 // max(days, 1),
                "usageAppOpens": views // 2,
                "usageSheetViews": views,
                "usageUniqueUsers": users,
                "usageLastReloadAt": reloaded,
                "usageLastViewedAt": (now - timedelta(days=1)).isoformat() if views else None,
                "usageClassification": _classify(views, days),
                "connections": [],
            }
        )
        app_node = f"app:{guid}"
        nodes.append({"id": app_node, "type": "app", "label": name, "app_id": guid})
        for line in script.splitlines():
            if "lib://" in line:
                path = line.split("lib://", 1)[1].split("]", 1)[0]
                file_node = f"file:lib://{path.lower()}"
                if not any(n["id"] == file_node for n in nodes):
                    nodes.append({"id": file_node, "type": "file", "label": path.rsplit("/", 1)[-1]})
                if line.startswith("STORE"):
                    edges.append({"source": app_node, "target": file_node, "relation": "stores"})
                else:
                    edges.append({"source": file_node, "target": app_node, "relation": "loads"})
            if line.startswith("SQL SELECT"):
                table = line.rsplit("FROM", 1)[1].strip(" ;").lower()
                connection = script.split("'")[1].lower()
                table_node = f"table:{connection}:{table}"
                nodes.append({"id": table_node, "type": "table", "label": table})
                edges.append(
                    {"source": f"connection:{connection}", "target": table_node, "relation": "contains"}
                )
                edges.append({"source": table_node, "target": app_node, "relation": "loads"})
    snapshot = QlikSnapshot(
        spaces=list(spaces.values()),
        apps=apps,
        data_connections=connections,
        scripts=scripts,
        usage=usage,
    )
    return snapshot, nodes, edges


def _demo_user(username: str, *, is_staff: bool = False, is_superuser: bool = False) -> User:
    user, _ = User.objects.get_or_create(
        username=username, defaults={"is_staff": is_staff or is_superuser, "is_superuser": is_superuser}
    )
    user.set_password(settings.ATLAS_DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def demo_load() -> bool:
    """Load the demo estate; False (and nothing changed) when it is already there."""
    if Customer.objects.filter(name="Acme Analytics").exists():
        return False
    customers = {}
    for name, estate in ESTATES.items():
        customer = customer_create(
            name=name, tenant_url=estate["tenant"], api_key=f"demo-key-{uuid.uuid4().hex}"
        )
        project = project_create(customer=customer, name=estate["project"])
        snapshot, nodes, edges = _estate_snapshot(name, estate)
        qlik_snapshot_replace(project=project, snapshot=snapshot)
        lineage_graph_replace(project=project, nodes=nodes, edges=edges)
        customers[name] = customer
    if settings.ATLAS_EMBEDDED_DB:
        _demo_user("admin", is_superuser=True)
        acme = customers["Acme Analytics"]
        for username, is_staff in (("support", True), ("consultant", False)):
            access_grant(user=_demo_user(username, is_staff=is_staff), customer=acme)
        assign_perm(CHANGE_CUSTOMER, User.objects.get(username="support"), acme)
    return True
