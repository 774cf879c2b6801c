"""The request budget belongs to the tenant's key: concurrent syncs of one customer share it."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection

from atlas.rls import acting_as
from customers.models import Customer, Project, User
from customers.services import customer_create, project_create
from qlik.fake_tenant import FakeEstate, FakeQlikTenant
from qlik.services import qlik_project_sync
from tests.conftest import FAKE_KEY

PER_MINUTE = 6000  # one start every 10 ms: a minute's budget squeezed into a second's test


@pytest.fixture
def two_projects_of_one_customer(django_db_setup, django_db_blocker):
    """Committed, so two threads with their own connections can sync them; removed after."""
    with (
        FakeQlikTenant(FakeEstate(seed=13, apps=30), api_key=FAKE_KEY) as tenant,
        django_db_blocker.unblock(),
    ):
        system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
        with acting_as(system):
            customer = customer_create(name="Shared Key Co", tenant_url=tenant.url, api_key=FAKE_KEY)
            projects = [project_create(customer=customer, name=f"Project {n}") for n in range(2)]
        yield tenant, projects, system
        with acting_as(system):
            Project.objects.filter(pk__in=[p.pk for p in projects]).delete()
            Customer.objects.filter(pk=customer.pk).delete()
        connection.close()


def test_two_concurrent_syncs_of_one_customer_together_stay_under_the_keys_budget(
    two_projects_of_one_customer, settings
):
    tenant, projects, system = two_projects_of_one_customer
    settings.QLIK_REQUESTS_PER_MINUTE = PER_MINUTE
    runs, errors = {}, []

    def sync(project):
        try:
            runs[project.pk] = qlik_project_sync(project=project, actor=system)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sync, args=(project,)) for project in projects]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    assert not errors, errors
    assert [run.status for run in runs.values()] == ["succeeded", "succeeded"], [
        r.error for r in runs.values()
    ]
    calls = sum(run.api_calls for run in runs.values())
    assert calls == tenant.calls() > 2 * 30  # both synced the whole tenant
    # Starts are spaced 60/PER_MINUTE apart across both syncs, so any second holds about
    # PER_MINUTE/60 of them, and the whole takes that long. The slack (+10 %, +1 for the
    # window's edge) is for a thread the busy machine starts late, whose request then
    # arrives beside the next one; two syncs with a budget each would send twice as many.
    assert tenant.max_requests_in_window(1.0, api_key=FAKE_KEY) <= PER_MINUTE // 60 * 1.1 + 1
    assert elapsed >= (calls - 1) * 60 / PER_MINUTE
    assert tenant.requests["429"] == 0
