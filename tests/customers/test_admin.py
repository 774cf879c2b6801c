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
