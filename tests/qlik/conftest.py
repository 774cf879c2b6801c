"""A fake Qlik Cloud tenant on a real socket, and a customer whose credentials point at it."""

import pytest

from atlas.rls import acting_as
from customers.services import customer_create, project_create
from qlik.fake_tenant import FakeEstate, FakeQlikTenant
from tests.conftest import FAKE_KEY


@pytest.fixture
def fake_tenant():
    with FakeQlikTenant(FakeEstate(seed=7, apps=250), api_key=FAKE_KEY) as tenant:
        yield tenant


@pytest.fixture
def synced_project(db, system_user, fake_tenant, fast_client_settings):
    with acting_as(system_user):
        customer = customer_create(name="Fake Co", tenant_url=fake_tenant.url, api_key=FAKE_KEY)
        return project_create(customer=customer, name="Fake estate")
