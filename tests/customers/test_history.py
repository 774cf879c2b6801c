"""Every change to customers, projects, credentials and grants is recorded: who, when, what."""

import pytest
from django.db import connection
from django.urls import reverse

from atlas.rls import acting_as
from customers.models import Customer, User
from customers.services import access_revoke, customer_credentials_set
from tests.factories import tenant_create


@pytest.fixture
def world(db):
    return tenant_create("acme"), tenant_create("globex")


def test_a_credential_change_is_recorded_with_who_and_when_but_never_the_value(world):
    acme, _ = world
    root = User.objects.create_superuser(username="root", password="pw")
    with acting_as(root):
        customer_credentials_set(customer=acme.customer, api_key="rotated-secret-77")
        latest = Customer.history.filter(id=acme.customer.pk).latest("history_date")
        previous = latest.prev_record
        assert latest.history_user == root
        changed = {change.field for change in latest.diff_against(previous).changes}
        assert "credentials_changed_at" in changed
        assert not hasattr(latest, "api_key")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM customers_historicalcustomer t WHERE t::text LIKE %s",
                ["%rotated-secret-77%"],
            )
            assert cursor.fetchone()[0] == 0


def test_grants_and_their_removal_are_recorded(world):
    acme, _ = world
    system = User.objects.get(username="atlas-system")
    with acting_as(system):
        access_revoke(user=acme.user, customer=acme.customer)
        kinds = list(
            acme.customer.access_grants.model.history.filter(customer_id=acme.customer.pk)
            .order_by("history_date")
            .values_list("history_type", flat=True)
        )
    assert kinds == ["+", "-"]


def test_history_rows_follow_the_customers_visibility(world):
    acme, globex = world
    system = User.objects.get(username="atlas-system")
    with acting_as(system):
        assert Customer.history.filter(id=globex.customer.pk).exists()  # it exists
    with acting_as(acme.user):
        assert Customer.history.filter(id=acme.customer.pk).exists()
        assert not Customer.history.filter(id=globex.customer.pk).exists()


def test_the_history_page_shows_changes_to_staff_who_can_see_the_customer(world, client):
    acme, globex = world
    root = User.objects.create_superuser(username="root", password="pw")
    client.force_login(root)
    page = client.get(reverse("admin:customers_customer_history", args=[acme.customer.pk]))
    assert page.status_code == 200
    assert acme.api_key not in page.content.decode()
    support = User.objects.create_user(username="support", password="pw", is_staff=True)
    client.force_login(support)
    assert (
        client.get(reverse("admin:customers_customer_history", args=[globex.customer.pk])).status_code == 404
    )
