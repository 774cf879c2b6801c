"""Staff holding 'manage access' on a customer see and change its grants; the database enforces it."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from guardian.shortcuts import assign_perm

from atlas.rls import acting_as
from customers.models import User, UserCustomerAccess
from customers.permissions import MANAGE_ACCESS, customer_user_can_manage_access
from customers.services import AccessChangeRefused, access_grant, access_revoke
from tests.factories import tenant_create


@pytest.fixture
def world(db, system_user):
    """Acme (granted to support and to user-acme) and Globex (granted to user-globex)."""
    acme, globex = tenant_create("acme"), tenant_create("globex")
    support = User.objects.create_user(username="support", password="pw", is_staff=True)
    newcomer = User.objects.create_user(
        username="newcomer", password="pw", first_name="Nora", last_name="New"
    )
    root = User.objects.create_superuser(username="root", password="pw")
    with acting_as(system_user):
        access_grant(user=support, customer=acme.customer)
        access_grant(user=root, customer=acme.customer)
    return acme, globex, support, newcomer, root


def _grants(customer) -> set[str]:
    return set(UserCustomerAccess.objects.filter(customer=customer).values_list("user__username", flat=True))


def _sql_grant_count(customer_id) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM user_customer_access WHERE customer_id = %s", [customer_id])
        return cursor.fetchone()[0]


def test_without_the_permission_support_sees_only_its_own_grant(world, system_user):
    acme, _globex, support, _newcomer, _root = world
    with acting_as(system_user):
        assert _grants(acme.customer) == {"user-acme", "support", "root"}  # the rows exist
    with acting_as(support):
        assert _grants(acme.customer) == {"support"}
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            UserCustomerAccess.objects.create(user=acme.user, customer=acme.customer)


def test_a_manager_sees_every_grant_of_the_customer_and_none_of_another(world, system_user):
    acme, globex, support, _newcomer, _root = world
    assign_perm(MANAGE_ACCESS, support, acme.customer)
    with acting_as(system_user):
        assert _sql_grant_count(globex.customer.pk) == 1  # Globex's grant exists
    with acting_as(support):
        assert _grants(acme.customer) == {"user-acme", "support", "root"}
        assert _sql_grant_count(acme.customer.pk) == 3
        assert _sql_grant_count(globex.customer.pk) == 0


def test_a_manager_grants_and_revokes_for_non_superusers_recorded_in_the_history(world, system_user):
    acme, _globex, support, newcomer, _root = world
    assign_perm(MANAGE_ACCESS, support, acme.customer)
    with acting_as(support):
        access_grant(user=newcomer, customer=acme.customer, actor=support)
        assert access_revoke(user=acme.user, customer=acme.customer, actor=support)
        assert _grants(acme.customer) == {"newcomer", "support", "root"}
        history = UserCustomerAccess.history.filter(customer_id=acme.customer.pk).order_by("history_date")
        recorded = [(h.user.username, h.history_type, h.history_user.username) for h in history][-2:]
    assert recorded == [("newcomer", "+", "support"), ("user-acme", "-", "support")]


def test_the_database_refuses_a_manager_on_another_customer_a_superuser_and_itself(world, system_user):
    acme, globex, support, newcomer, root = world
    assign_perm(MANAGE_ACCESS, support, acme.customer)
    with acting_as(support), connection.cursor() as cursor:
        for user_id, customer_id in (
            (newcomer.pk, globex.customer.pk),  # a customer it cannot see
            (root.pk, acme.customer.pk),  # a superuser
        ):
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                cursor.execute(
                    "INSERT INTO user_customer_access (user_id, customer_id, granted_at) "
                    "VALUES (%s, %s, now())",
                    [user_id, customer_id],
                )
        for user_id, customer_id in (
            (globex.user.pk, globex.customer.pk),
            (root.pk, acme.customer.pk),
            (support.pk, acme.customer.pk),  # its own grant
        ):
            cursor.execute(
                "DELETE FROM user_customer_access WHERE user_id = %s AND customer_id = %s",
                [user_id, customer_id],
            )
            assert cursor.rowcount == 0
        cursor.execute(
            "UPDATE user_customer_access SET user_id = user_id WHERE customer_id = %s", [acme.customer.pk]
        )
        assert cursor.rowcount == 0  # changing a grant in place stays with superusers
    with acting_as(system_user):
        assert _grants(acme.customer) == {"user-acme", "support", "root"}
        assert _grants(globex.customer) == {"user-globex"}


def test_the_permission_without_sight_of_the_customer_or_without_staff_status_gives_nothing(
    world, system_user
):
    acme, globex, support, newcomer, _root = world
    # Given directly in guardian's table, around the admin's check: the policy still says no.
    assign_perm(MANAGE_ACCESS, support, globex.customer)
    assign_perm(MANAGE_ACCESS, acme.user, acme.customer)  # a granted consultant, not staff
    for actor, customer in ((support, globex.customer), (acme.user, acme.customer)):
        with acting_as(actor):
            assert _sql_grant_count(customer.pk) == (1 if actor == acme.user else 0)
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                UserCustomerAccess.objects.create(user=newcomer, customer=customer)
            assert not customer_user_can_manage_access(user=actor, customer=customer)


def test_the_service_says_why_before_the_database_has_to(world):
    acme, _globex, support, newcomer, root = world
    with acting_as(support), pytest.raises(AccessChangeRefused, match="manage access"):
        access_grant(user=newcomer, customer=acme.customer, actor=support)
    assign_perm(MANAGE_ACCESS, support, acme.customer)
    with acting_as(support):
        with pytest.raises(AccessChangeRefused, match="superuser"):
            access_revoke(user=root, customer=acme.customer, actor=support)
        with pytest.raises(AccessChangeRefused, match="own access"):
            access_revoke(user=support, customer=acme.customer, actor=support)


def test_grant_access_acts_as_the_manager_given_by_actor(world, system_user):
    acme, globex, support, newcomer, _root = world
    assign_perm(MANAGE_ACCESS, support, acme.customer)
    call_command("grant_access", "--actor", "support", "--user", "newcomer", "--customer", acme.customer.name)
    with pytest.raises(CommandError, match="No customer"):
        call_command(
            "grant_access", "--actor", "support", "--user", "newcomer", "--customer", globex.customer.name
        )
    with pytest.raises(CommandError, match="superuser"):
        call_command(
            "grant_access",
            "--actor",
            "support",
            "--user",
            "root",
            "--customer",
            acme.customer.name,
            "--revoke",
        )
    with acting_as(system_user):
        assert _grants(acme.customer) == {"user-acme", "support", "root", "newcomer"}
        assert _grants(globex.customer) == {"user-globex"}
        last = UserCustomerAccess.history.filter(user_id=newcomer.pk).latest("history_date")
        assert last.history_user_id == support.pk
