"""Background syncs: one job per project in the queue, the worker's task, a killed sync."""

import multiprocessing
import os
import signal
import time

import pytest
from django.conf import settings
from django.db import connection

from atlas.rls import acting_as
from customers.models import Customer, Project, User
from customers.services import customer_create, project_create
from qlik.fake_tenant import FakeEstate, FakeQlikTenant
from qlik.models import QlikApp, QlikSyncRun
from qlik.services import project_sync_enqueue, qlik_project_sync
from qlik.tasks import sync_all_projects, sync_project
from tests.qlik.conftest import FAKE_KEY


def _queued_jobs(project) -> int:
    from procrastinate.contrib.django.models import ProcrastinateJob

    return ProcrastinateJob.objects.filter(queueing_lock=f"qlik-sync-{project.pk}", status="todo").count()


def test_two_sync_requests_for_one_project_queue_one_job(synced_project, system_user):
    with acting_as(system_user):
        first = project_sync_enqueue(project=synced_project, trigger=QlikSyncRun.Trigger.ADMIN)
        second = project_sync_enqueue(project=synced_project, trigger=QlikSyncRun.Trigger.ADMIN)
        # The caller's transaction survives the refused second enqueue.
        assert Project.objects.filter(pk=synced_project.pk).exists()
    assert first is not None
    assert second is None
    assert _queued_jobs(synced_project) == 1


def test_the_schedule_queues_every_project_once(synced_project, system_user):
    assert sync_all_projects(timestamp=0) >= 1
    assert sync_all_projects(timestamp=0) == 0  # all still waiting
    assert _queued_jobs(synced_project) == 1


def test_the_worker_task_syncs_the_project_as_the_system_account(synced_project, system_user):
    result = sync_project(project_id=synced_project.pk, trigger="schedule")
    with acting_as(system_user):
        run = QlikSyncRun.objects.get(pk=result["run"])
        assert QlikApp.objects.filter(project=synced_project).count() == 250
    assert (run.status, run.trigger, run.requested_by) == ("succeeded", "schedule", system_user)


def _sync_in_child(project_id: int) -> None:
    system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
    with acting_as(system):
        project = Project.objects.select_related("customer").get(pk=project_id)
    qlik_project_sync(project=project, actor=system)


SCRIPTS = "apps/{id}/scripts/current"


@pytest.fixture
def committed_project(django_db_setup, django_db_blocker):
    """A project committed to the database, so another process can sync it; removed after."""
    with (
        FakeQlikTenant(FakeEstate(seed=3, apps=120), api_key=FAKE_KEY) as tenant,
        django_db_blocker.unblock(),
    ):
        system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
        with acting_as(system):
            customer = customer_create(name="Killed Co", tenant_url=tenant.url, api_key=FAKE_KEY)
            project = project_create(customer=customer, name="Killed sync")
        yield tenant, project, system
        with acting_as(system):
            Project.objects.filter(pk=project.pk).delete()
            Customer.objects.filter(pk=customer.pk).delete()
        connection.close()


def test_a_sync_killed_mid_sync_keeps_the_previous_snapshot_and_the_next_sync_succeeds_at_once(
    committed_project, settings
):
    tenant, project, system = committed_project
    settings.QLIK_REQUESTS_PER_MINUTE = 0
    assert qlik_project_sync(project=project, actor=system).status == "succeeded"
    with acting_as(system):
        before = QlikApp.objects.filter(project=project).count()
    assert before == 120

    tenant.estate.touched_apps.update(dict.fromkeys(range(120), tenant.estate.today))  # all changed
    tenant.switches.slow_paths, tenant.switches.slow_seconds = {"/api/v1/apps/"}, 0.05
    tenant.requests.clear()
    connection.close()  # the child must open its own connection
    child = multiprocessing.get_context("fork").Process(target=_sync_in_child, args=(project.pk,))
    child.start()
    deadline = time.monotonic() + 30
    while tenant.requests[SCRIPTS] < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    assert child.exitcode == -signal.SIGKILL
    assert tenant.requests[SCRIPTS] >= 10  # it was killed mid-sync, not before

    with acting_as(system):
        assert QlikApp.objects.filter(project=project).count() == before
        killed = QlikSyncRun.objects.filter(project=project).order_by("-started_at").first()
    assert killed.status == "running"  # nobody could record the kill ...
    tenant.switches.slow_seconds = 0
    # ... the next sync does, at once: the killed process's lock died with its connection.
    after = qlik_project_sync(project=project, actor=system)
    with acting_as(system):
        killed.refresh_from_db()
    assert killed.status == "failed"
    assert "Interrupted" in killed.error
    assert after.status == "succeeded"
