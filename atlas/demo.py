"""Demo data for `make run`: two customers whose Qlik estates come from fake tenants.

Acme Analytics and Globex Retail each point at a fake Qlik Cloud tenant served on
127.0.0.1 (qlik.fake_tenant, deterministic from a seed), and their projects are filled by
the real sync, exactly as a customer's tenant would fill them — including what real
tenants do to a sync (scripts the key may not read, reload metadata not kept, an app gone
since the listing: `Switches.like_a_real_tenant`), so the demo shows the problems a sync
records. Users admin / support / consultant are created on the embedded database only.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from guardian.shortcuts import assign_perm

from atlas.rls import acting_as
from customers.models import Customer, Project, User
from customers.permissions import CHANGE_CUSTOMER, MANAGE_ACCESS
from customers.services import access_grant, customer_create, customer_credentials_set, project_create
from qlik.fake_tenant import FakeEstate, FakeQlikTenant, Switches
from qlik.models import QlikSyncRun
from qlik.services import qlik_project_sync

DEMO_API_KEY = "demo-fake-tenant-key"  # the fake tenants' key: not a secret of anyone's


@dataclass(frozen=True)
class DemoEstate:
    customer: str
    project: str
    seed: int
    apps: int
    port_offset: int


DEMO_ESTATES = (
    DemoEstate("Acme Analytics", "Acme Cloud", seed=11, apps=60, port_offset=0),
    DemoEstate("Globex Retail", "Globex Stores", seed=12, apps=15, port_offset=1),
)


def demo_tenants_start(*, base_port: int) -> list[FakeQlikTenant]:
    """Serve each demo estate on base_port + its offset (the URLs stored on the customers)."""
    tenants = []
    for estate in DEMO_ESTATES:
        tenant = FakeQlikTenant(
            FakeEstate(seed=estate.seed, apps=estate.apps),
            api_key=DEMO_API_KEY,
            port=base_port + estate.port_offset,
        )
        tenant.switches = Switches.like_a_real_tenant()
        tenants.append(tenant.start())
    return tenants


def _demo_user(username: str, *, is_staff: bool = False, is_superuser: bool = False) -> User:
    user, _ = User.objects.get_or_create(
        username=username, defaults={"is_staff": is_staff or is_superuser, "is_superuser": is_superuser}
    )
    user.set_password(settings.ATLAS_DEMO_PASSWORD)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def _demo_customers_create(*, base_port: int) -> list[Project]:
    projects = []
    for estate in DEMO_ESTATES:
        tenant_url = f"http://127.0.0.1:{base_port + estate.port_offset}"
        customer = Customer.objects.filter(name=estate.customer).first()
        if customer is None:
            customer = customer_create(name=estate.customer, tenant_url=tenant_url, api_key=DEMO_API_KEY)
        elif customer.tenant_url != tenant_url:  # demo customers follow the demo tenants' ports
            customer.tenant_url = tenant_url
            customer.save(update_fields=["tenant_url", "updated_at"])
            customer_credentials_set(customer=customer, api_key=DEMO_API_KEY)
        project = Project.objects.filter(customer=customer, name=estate.project).first() or project_create(
            customer=customer, name=estate.project
        )
        projects.append(project)
    if settings.ATLAS_EMBEDDED_DB:
        _demo_user("admin", is_superuser=True)
        acme = projects[0].customer
        for username, is_staff in (("support", True), ("consultant", False)):
            access_grant(user=_demo_user(username, is_staff=is_staff), customer=acme)
        support = User.objects.get(username="support")
        assign_perm(CHANGE_CUSTOMER, support, acme)
        assign_perm(MANAGE_ACCESS, support, acme)  # support also decides who sees Acme
    return projects


def demo_load(*, actor: User, base_port: int) -> list[QlikSyncRun]:
    """Create the demo customers (once) and sync each project never synced successfully.

    The fake tenants must be serving (demo_tenants_start). Returns the syncs it ran.
    """
    with acting_as(actor):
        projects = _demo_customers_create(base_port=base_port)
        unsynced = [
            p for p in projects if not p.sync_runs.filter(status=QlikSyncRun.Status.SUCCEEDED).exists()
        ]
    return [qlik_project_sync(project=project, actor=actor) for project in unsynced]
