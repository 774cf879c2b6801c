"""Support staff see what RLS grants them and edit only where guardian says they may."""

import pytest
from django.urls import reverse
from guardian.shortcuts import assign_perm, remove_perm

from atlas.rls import acting_as
from customers.models import Customer, User
from customers.services import access_grant, access_revoke
from qlik.models import QlikApp
from tests.factories import tenant_create


@pytest.fixture
def world(db):
    acme, globex = tenant_create("acme"), tenant_create("globex")
    support = User.objects.create_user(username="support", password="pw", is_staff=True)
    system = User.objects.get(username="atlas-system")
    with acting_as(system):
        access_grant(user=support, customer=acme.customer)
    return acme, globex, support


def _change_form(customer, name):
    return {
        "name": name,
        "tenant_url": customer.tenant_url,
        "oauth_client_id": "",
        "projects-TOTAL_FORMS": "0",
        "projects-INITIAL_FORMS": "0",
        "access_grants-TOTAL_FORMS": "0",
        "access_grants-INITIAL_FORMS": "0",
    }


def test_support_sees_granted_customers_only(world, client):
    acme, globex, support = world
    client.force_login(support)
    changelist = client.get(reverse("admin:customers_customer_changelist"))
    assert changelist.status_code == 200
    assert acme.customer.name in changelist.content.decode()
    assert globex.customer.name not in changelist.content.decode()
    assert (
        client.get(reverse("admin:customers_customer_change", args=[globex.customer.pk])).status_code == 404
    )
    assert client.get(reverse("admin:customers_customer_change", args=[acme.customer.pk])).status_code == 200


def test_support_edits_a_customer_only_with_the_object_permission(world, client):
    acme, _, support = world
    client.force_login(support)
    url = reverse("admin:customers_customer_change", args=[acme.customer.pk])
    assert client.post(url, _change_form(acme.customer, "Acme Renamed")).status_code == 403

    assign_perm("customers.change_customer", support, acme.customer)
    response = client.post(url, _change_form(acme.customer, "Acme Renamed"))
    assert response.status_code == 302, response.content.decode()[:1500]
    with acting_as(support):
        assert Customer.objects.get(pk=acme.customer.pk).name == "Acme Renamed"

    remove_perm("customers.change_customer", support, acme.customer)
    assert client.post(url, _change_form(acme.customer, "Acme Again")).status_code == 403


def test_support_cannot_add_or_delete_customers_or_change_access(world, client):
    acme, _, support = world
    assign_perm("customers.change_customer", support, acme.customer)
    client.force_login(support)
    assert client.get(reverse("admin:customers_customer_add")).status_code == 403
    assert client.get(reverse("admin:customers_customer_delete", args=[acme.customer.pk])).status_code == 403
    assert client.get(reverse("admin:customers_usercustomeraccess_add")).status_code == 403
    assert (
        client.get(reverse("admin:customers_customer_permissions", args=[acme.customer.pk])).status_code
        == 302
    )


def test_an_object_permission_on_a_customer_the_user_cannot_see_is_refused(world, client):
    acme, globex, support = world
    root = User.objects.create_superuser(username="root", password="pw")
    client.force_login(root)
    url = reverse("admin:customers_customer_permissions_manage_user", args=[globex.customer.pk, support.pk])
    response = client.post(url, {"permissions": ["change_customer"]})
    assert response.status_code == 200
    assert "cannot see Customer globex" in response.content.decode()
    assert not support.has_perm("customers.change_customer", globex.customer)

    url = reverse("admin:customers_customer_permissions_manage_user", args=[acme.customer.pk, support.pk])
    assert client.post(url, {"permissions": ["change_customer"]}).status_code == 302
    assert User.objects.get(pk=support.pk).has_perm("customers.change_customer", acme.customer)


def test_revoking_access_also_takes_the_edit_rights(world):
    acme, _, support = world
    assign_perm("customers.change_customer", support, acme.customer)
    with acting_as(User.objects.get(username="atlas-system")):
        access_revoke(user=support, customer=acme.customer)
    assert not User.objects.get(pk=support.pk).has_perm("customers.change_customer", acme.customer)


def test_support_browses_qlik_metadata_of_granted_customers_only(world, client):
    _acme, globex, support = world
    client.force_login(support)
    page = client.get(reverse("admin:qlik_qlikapp_changelist")).content.decode()
    assert "App app-acme-0" in page
    assert "App app-globex-0" not in page
    hidden = globex.rows[QlikApp]
    assert client.get(reverse("admin:qlik_qlikapp_change", args=[hidden.pk])).status_code == 404
