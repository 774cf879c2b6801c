"""The customer's page as an access manager uses it: every grant, add and revoke, no dead end."""

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm

from atlas.rls import acting_as
from customers.models import User, UserCustomerAccess
from customers.permissions import CHANGE_CUSTOMER, MANAGE_ACCESS
from customers.services import access_grant
from tests.factories import tenant_create


@pytest.fixture
def world(db, system_user):
    acme, globex = tenant_create("acme"), tenant_create("globex")
    support = User.objects.create_user(username="support", password="pw", is_staff=True)
    newcomer = User.objects.create_user(username="newcomer", first_name="Nora", last_name="New")
    with acting_as(system_user):
        access_grant(user=support, customer=acme.customer)
    assign_perm(CHANGE_CUSTOMER, support, acme.customer)
    return acme, globex, support, newcomer


def _form(customer, **grants):
    return {
        "name": customer.name,
        "tenant_url": customer.tenant_url,
        "oauth_client_id": "",
        "projects-TOTAL_FORMS": "0",
        "projects-INITIAL_FORMS": "0",
        **grants,
    }


def test_a_manager_sees_every_grant_and_grants_a_newcomer_by_name(world, client, system_user):
    acme, _globex, support, newcomer = world
    client.force_login(support)
    url = reverse("admin:customers_customer_change", args=[acme.customer.pk])
    page = client.get(url).content.decode()
    assert "user-acme" not in page  # without the permission: its own grant only
    assign_perm(MANAGE_ACCESS, support, acme.customer)
    page = client.get(url).content.decode()
    assert "user-acme" in page and "Nora New (newcomer)" in page
    assert reverse("admin:customers_user_change", args=[acme.user.pk]) not in page  # no 403 link
    with acting_as(system_user):
        grants = list(UserCustomerAccess.objects.filter(customer=acme.customer).order_by("pk"))
    post = _form(
        acme.customer,
        **{
            "access_grants-TOTAL_FORMS": str(len(grants) + 1),
            "access_grants-INITIAL_FORMS": str(len(grants)),
            **{f"access_grants-{n}-id": grant.pk for n, grant in enumerate(grants)},
            **{f"access_grants-{n}-customer": acme.customer.pk for n in range(len(grants) + 1)},
            f"access_grants-{len(grants)}-user": newcomer.pk,
        },
    )
    response = client.post(url, post)
    assert response.status_code == 302, response.content.decode()[:2000]
    with acting_as(system_user):
        assert UserCustomerAccess.objects.filter(customer=acme.customer, user=newcomer).exists()
        record = UserCustomerAccess.history.filter(user_id=newcomer.pk).latest("history_date")
        assert record.history_user_id == support.pk


def test_object_permissions_and_project_delete_are_not_offered_to_support_and_say_why(world, client):
    acme, _globex, support, _newcomer = world
    client.force_login(support)
    page = client.get(reverse("admin:customers_customer_change", args=[acme.customer.pk])).content.decode()
    assert "Object permissions" not in page and "Test connection" in page and "Sync now" in page
    refused = client.get(
        reverse("admin:customers_customer_permissions", args=[acme.customer.pk]), follow=True
    )
    assert "given by superusers" in refused.content.decode()
    project_page = client.get(
        reverse("admin:customers_project_change", args=[acme.project.pk])
    ).content.decode()
    assert "deletelink" not in project_page


def test_the_user_admin_lists_no_anonymous_user(world, client):
    root = User.objects.create_superuser(username="root", password="pw")
    assert User.objects.filter(username="AnonymousUser").exists()  # guardian made one
    client.force_login(root)
    assert "AnonymousUser" not in client.get(reverse("admin:customers_user_changelist")).content.decode()


def test_the_sync_now_action_queues_only_projects_the_user_may_change(world, client, system_user):
    """Seeing a customer is not enough to sync it, from the admin's bulk action as from the
    customer page and the health board."""
    acme, globex, support, _newcomer = world
    with acting_as(system_user):
        access_grant(user=support, customer=globex.customer)  # sees globex, may not change it
    client.force_login(support)
    answer = client.post(
        reverse("admin:customers_project_changelist"),
        {"action": "sync_now", "_selected_action": [acme.project.pk, globex.project.pk]},
        follow=True,
    ).content.decode()
    assert f"Not synced: {globex.project}" in answer and "change rights" in answer
    assert "Queued 1 sync(s)." in answer  # acme's
    again = client.post(
        reverse("admin:customers_project_changelist"),
        {"action": "sync_now", "_selected_action": [acme.project.pk]},
        follow=True,
    ).content.decode()
    assert "1 already waiting" in again and "Not synced" not in again
