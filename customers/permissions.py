"""Who may change what: RLS decides what a user sees, django-guardian what they may edit."""

from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission

from customers.models import Customer, User, UserCustomerAccess

CHANGE_CUSTOMER = "customers.change_customer"
MANAGE_ACCESS = "customers.manage_access"


def customer_user_can_change(*, user: User, customer: Customer) -> bool:
    """Superusers, or holders of the object permission change_customer on this customer."""
    return user.is_active and (user.is_superuser or user.has_perm(CHANGE_CUSTOMER, customer))


def customer_user_can_see(*, user: User, customer: Customer) -> bool:
    """Whether RLS lets `user` see `customer` (a superuser, or granted in user_customer_access)."""
    return user.is_superuser or UserCustomerAccess.objects.filter(user=user, customer=customer).exists()


def customer_user_can_manage_access(*, user: User, customer: Customer) -> bool:
    """Superusers, or active staff holding manage_access on a customer they see themselves.

    The same rule as the RLS policies of user_customer_access (customers 0010), which hold
    whatever this says; the admin and the command ask it to offer only what will succeed.
    """
    if user.is_superuser:
        return True
    return (
        user.is_active
        and user.is_staff
        and user.has_perm(MANAGE_ACCESS, customer)
        and customer_user_can_see(user=user, customer=customer)
    )


def access_change_refusal(*, actor: User, user: User, customer: Customer) -> str | None:
    """Why `actor` may not grant or revoke `user`'s access to `customer`, or None if they may."""
    if actor.is_superuser:
        return None
    if not customer_user_can_manage_access(user=actor, customer=customer):
        return (
            f"{person_name(actor)} may not manage who sees {customer}: that takes the permission "
            "'manage access' on the customer, given by a superuser."
        )
    if user.is_superuser:
        return f"{person_name(user)} is a superuser: only a superuser changes a superuser's access."
    if user.pk == actor.pk:
        return "Nobody changes their own access: ask a superuser or another manager of the customer."
    return None


def person_name(user: User) -> str:
    """A person as people say it: full name and username, or the username alone."""
    full = user.get_full_name()
    return f"{full} ({user.username})" if full else user.username


def customer_object_permissions_clear(*, user: User, customer: Customer) -> int:
    """Drop every object permission `user` holds on `customer` (when their access ends)."""
    deleted, _ = UserObjectPermission.objects.filter(
        user=user,
        content_type=ContentType.objects.get_for_model(Customer),
        object_pk=str(customer.pk),
    ).delete()
    return deleted
