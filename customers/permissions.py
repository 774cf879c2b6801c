"""Who may change what: RLS decides what a user sees, django-guardian what they may edit."""

from django.contrib.contenttypes.models import ContentType
from guardian.models import UserObjectPermission

from customers.models import Customer, User, UserCustomerAccess

CHANGE_CUSTOMER = "customers.change_customer"


def customer_user_can_change(*, user: User, customer: Customer) -> bool:
    """Superusers, or holders of the object permission change_customer on this customer."""
    return user.is_active and (user.is_superuser or user.has_perm(CHANGE_CUSTOMER, customer))


def customer_user_can_see(*, user: User, customer: Customer) -> bool:
    """Whether RLS lets `user` see `customer` (a superuser, or granted in user_customer_access)."""
    return user.is_superuser or UserCustomerAccess.objects.filter(user=user, customer=customer).exists()


def customer_object_permissions_clear(*, user: User, customer: Customer) -> int:
    """Drop every object permission `user` holds on `customer` (when their access ends)."""
    deleted, _ = UserObjectPermission.objects.filter(
        user=user,
        content_type=ContentType.objects.get_for_model(Customer),
        object_pk=str(customer.pk),
    ).delete()
    return deleted
