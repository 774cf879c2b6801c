"""The admin opens for a superuser, never shows a secret, and turns consultants away."""

import pytest
from django.contrib import admin
from django.urls import reverse

from customers.models import Customer, User
from tests.factories import tenant_create


@pytest.fixture
def world(db):
    return tenant_create("a"), tenant_create("b")


@pytest.fixture
def superuser_client(client, db):
    root = User.objects.create_superuser(username="root", password="pw")
    client.force_login(root)
    return client


def test_every_changelist_and_change_page_opens_for_a_superuser_without_showing_a_secret(
    world, superuser_client
):
    a, b = world
    opened = 0
    for model in admin.site._registry:
        meta = model._meta
        changelist = superuser_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert changelist.status_code == 200, meta.label
        for tenant in (a, b):
            assert tenant.api_key not in changelist.content.decode()
        row = a.rows.get(model) or (a.user if model is User else None)
        if row is None:
            continue
        page = superuser_client.get(
            reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk])
        )
        assert page.status_code == 200, meta.label
        assert a.api_key not in page.content.decode()
        opened += 1
    assert opened >= 10


def test_the_customer_page_shows_whether_credentials_are_set_never_their_value(world, superuser_client):
    a, _ = world
    page = superuser_client.get(
        reverse("admin:customers_customer_change", args=[a.customer.pk])
    ).content.decode()
    assert "API key: set" in page
    assert a.api_key not in page


def test_replacing_a_key_in_the_admin_stores_it_encrypted(world, superuser_client, as_system):
    a, _ = world
    url = reverse("admin:customers_customer_change", args=[a.customer.pk])
    response = superuser_client.post(
        url,
        {
            "name": a.customer.name,
            "tenant_url": a.customer.tenant_url,
            "oauth_client_id": "",
            "new_api_key": "replaced-key-123456",
            "projects-TOTAL_FORMS": "0",
            "projects-INITIAL_FORMS": "0",
            "access_grants-TOTAL_FORMS": "0",
            "access_grants-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Customer.objects.get(pk=a.customer.pk).api_key == "replaced-key-123456"


def test_consultants_never_reach_the_admin(world, client):
    a, _ = world
    client.force_login(a.user)  # not staff
    response = client.get(reverse("admin:customers_customer_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_actions_test_the_connection_and_queue_syncs(superuser_client, system_user):
    from atlas.rls import acting_as
    from customers.services import customer_create, project_create
    from qlik.fake_tenant import FakeEstate, FakeQlikTenant

    with FakeQlikTenant(FakeEstate(apps=3), api_key="right-key-0123456789") as tenant:
        with acting_as(system_user):
            customer = customer_create(name="Tested", tenant_url=tenant.url, api_key="wrong-key-0123456789")
            project_create(customer=customer, name="P")
        url = reverse("admin:customers_customer_changelist")
        answer = superuser_client.post(
            url, {"action": "test_connection", "_selected_action": [customer.pk]}, follow=True
        ).content.decode()
        assert "credentials rejected" in answer
        assert "Invalid API key" in answer
        assert "wrong-key-0123456789" not in answer
        queued = superuser_client.post(
            url, {"action": "sync_now", "_selected_action": [customer.pk]}, follow=True
        )
        assert "Queued 1 sync(s)." in queued.content.decode()
        again = superuser_client.post(
            url, {"action": "sync_now", "_selected_action": [customer.pk]}, follow=True
        )
        assert "1 already waiting" in again.content.decode()
