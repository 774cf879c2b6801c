"""Writes for customers, projects and access grants."""

from django.db import transaction
from django.utils import timezone

from customers.models import Customer, Project, User, UserCustomerAccess
from customers.permissions import customer_object_permissions_clear


def customer_create(
    *,
    name: str,
    tenant_url: str,
    api_key: str | None = None,
    oauth_client_id: str = "",
    oauth_client_secret: str | None = None,
) -> Customer:
    customer = Customer(name=name.strip(), tenant_url=tenant_url.strip().rstrip("/"))
    _credentials_assign(
        customer,
        api_key=api_key,
        oauth_client_id=oauth_client_id,
        oauth_client_secret=oauth_client_secret,
    )
    customer.full_clean()
    customer.save()
    return customer


def customer_credentials_set(
    *,
    customer: Customer,
    api_key: str | None = None,
    oauth_client_id: str | None = None,
    oauth_client_secret: str | None = None,
) -> Customer:
    """Replace the given credentials ("" clears one; None leaves it as it is)."""
    _credentials_assign(
        customer,
        api_key=api_key,
        oauth_client_id=oauth_client_id,
        oauth_client_secret=oauth_client_secret,
    )
    customer.save()
    return customer


def _credentials_assign(customer: Customer, **values: str | None) -> None:
    changed = False
    for field, value in values.items():
        if value is None:
            continue
        value = value.strip()
        if field in Customer.SECRET_FIELDS:
            value = value or None
        setattr(customer, field, value)
        changed = True
    if changed:
        customer.credentials_changed_at = timezone.now()


@transaction.atomic
def customer_encryption_keys_rotate() -> int:
    """Re-encrypt every stored secret with the first key; return how many were rewritten.

    Raises UndecryptableSecret (naming the customer) and changes nothing when a secret
    cannot be decrypted with any configured key.
    """
    customers = list(Customer.objects.select_for_update().order_by("pk"))
    rewritten = 0
    for customer in customers:
        for field in Customer.SECRET_FIELDS:
            plaintext = getattr(customer, field)  # raises UndecryptableSecret
            if plaintext is not None:
                # Assigning the plaintext makes the save encrypt it with the first key.
                setattr(customer, field, plaintext)
                rewritten += 1
    Customer.objects.bulk_update(customers, Customer.SECRET_FIELDS)
    return rewritten


def project_create(*, customer: Customer, name: str, description: str = "") -> Project:
    project = Project(customer=customer, name=name.strip(), description=description)
    project.full_clean()
    project.save()
    return project


def access_grant(*, user: User, customer: Customer) -> UserCustomerAccess:
    grant, _ = UserCustomerAccess.objects.get_or_create(user=user, customer=customer)
    return grant


@transaction.atomic
def access_revoke(*, user: User, customer: Customer) -> bool:
    """End a user's sight of a customer, and with it any right to edit it."""
    deleted, _ = UserCustomerAccess.objects.filter(user=user, customer=customer).delete()
    customer_object_permissions_clear(user=user, customer=customer)
    return bool(deleted)
