"""Test database: created and migrated by the owner role, used by the runtime role.

The tests connect exactly as the web, API and workers do (NOSUPERUSER NOBYPASSRLS, no
ownership), so every query in them passes through the RLS policies.
"""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import setup_databases, teardown_databases

from atlas import db_roles
from atlas.rls import acting_as
from tests.browser import live_portal, page  # noqa: F401 (fixtures for the browser tests)


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_keepdb):
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        db_roles.roles_bootstrap()
        with db_roles.connected_as_owner():
            db_config = setup_databases(
                verbosity=verbosity, interactive=False, keepdb=django_db_keepdb, serialized_aliases=set()
            )
        db_roles.runtime_privileges_grant(dbname=connection.settings_dict["NAME"])
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock(), db_roles.connected_as_owner():
            teardown_databases(db_config, verbosity=verbosity)


@pytest.fixture
def system_user(db):
    from customers.models import User

    return User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)


@pytest.fixture
def as_system(system_user):
    """Run the test body as the system superuser identity."""
    with acting_as(system_user):
        yield system_user


@pytest.fixture
def fast_client_settings(settings):
    """Retries without long sleeps (the waits themselves are checked separately)."""
    settings.QLIK_MAX_RETRY_SECONDS = 30
    settings.QLIK_REQUESTS_PER_MINUTE = 0
    return settings


FAKE_KEY = "fake-tenant-key-0123456789"


@pytest.fixture
def estate_project(db, system_user, fast_client_settings):
    """A project synced from a 12-app estate: three chains Extract → Model → Dashboard/Report."""
    from customers.services import customer_create, project_create
    from qlik.fake_tenant import FakeEstate, FakeQlikTenant
    from qlik.models import QlikSyncRun
    from qlik.services import qlik_project_sync

    with FakeQlikTenant(FakeEstate(seed=5, apps=12), api_key=FAKE_KEY) as tenant:
        with acting_as(system_user):
            customer = customer_create(name="Chains", tenant_url=tenant.url, api_key=FAKE_KEY)
            project = project_create(customer=customer, name="Chains")
        run = qlik_project_sync(project=project, actor=system_user)
        assert run.status == QlikSyncRun.Status.SUCCEEDED, run.error
        yield project, tenant.estate


@pytest.fixture(autouse=True)
def _lineage_cache_cleared():
    """Each test starts without lineage graphs held in the process (lineage/adjacency.py)."""
    from lineage.adjacency import adjacency_clear

    adjacency_clear()
    yield
    adjacency_clear()
