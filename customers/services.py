"""Writes for customers, projects and access grants."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from customers.models import ApiToken, Customer, Project, User, UserCustomerAccess
from customers.permissions import access_change_refusal, customer_object_permissions_clear


class AccessChangeRefused(PermissionError):
    """A grant or revoke the actor may not make; the message says why, in words."""


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


def _access_change_check(*, actor: User | None, user: User, customer: Customer) -> None:
    if actor is not None:
        reason = access_change_refusal(actor=actor, user=user, customer=customer)
        if reason:
            raise AccessChangeRefused(reason)


@transaction.atomic
def access_grant(*, user: User, customer: Customer, actor: User | None = None) -> UserCustomerAccess:
    """Let `user` see `customer`. With `actor`, refused (AccessChangeRefused) unless the actor
    may manage the customer's access; the RLS policies refuse it in any case."""
    _access_change_check(actor=actor, user=user, customer=customer)
    grant, _ = UserCustomerAccess.objects.get_or_create(user=user, customer=customer)
    return grant


@transaction.atomic
def access_revoke(*, user: User, customer: Customer, actor: User | None = None) -> bool:
    """End a user's sight of a customer, and with it any right to edit it."""
    _access_change_check(actor=actor, user=user, customer=customer)
    deleted, _ = UserCustomerAccess.objects.filter(user=user, customer=customer).delete()
    if deleted:  # a delete the policies refused leaves the rights where they were
        customer_object_permissions_clear(user=user, customer=customer)
    return bool(deleted)


# --- API tokens -------------------------------------------------------------------------------


def api_token_hash(key: str) -> str:
    """Keys are 256 random bits, so one SHA-256 suffices (no salt or stretching needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token and its key. The key is returned once and never stored."""
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:8], key_hash=api_token_hash(key), expires_at=expires_at
    )
    return token, key


def api_tokens_revoke(*, tokens: QuerySet[ApiToken]) -> int:
    """Revoke every token of `tokens` not yet revoked; returns how many were."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_used(*, token: ApiToken) -> None:
    """Record use at most once a minute, so an API call costs no write in the common case."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


# --- Test connection ----------------------------------------------------------------------------


def customer_connection_check(*, customer: Customer) -> str:
    """One call to the tenant's `users/me`, answered within QLIK_TEST_TIMEOUT_SECONDS.

    No retries and no wait on the key's request budget (a sync's pending Retry-After would
    otherwise hold the request for minutes): support wants to know now. Returns what the
    tenant said; raises QlikError (or UndecryptableSecret) whose message names the host tried
    and what failed, never the key.
    """
    from django.conf import settings

    from qlik.client import ClientOptions, QlikClient, QlikCredentialsRejected, QlikError
    from qlik.sync.connect import client_options

    host = customer.tenant_url.split("://", 1)[-1].split("/", 1)[0]
    api_key = customer.api_key
    if not api_key:
        raise QlikCredentialsRejected(f"{customer} has no Qlik API key: set one on the customer first.")
    options = ClientOptions(
        timeout=settings.QLIK_TEST_TIMEOUT_SECONDS,
        max_retries=0,
        max_retry_seconds=0,
        requests_per_minute=0,
        concurrency=1,
        paths=client_options().paths,
    )
    try:
        with QlikClient(customer.tenant_url, api_key, options=options) as client:
            me = client.me()
    except QlikError as exc:
        raise type(exc)(f"{customer}: {host} — {exc}", status=exc.status, endpoint=exc.endpoint) from None
    who = me.get("name") or me.get("id") or "the API user"
    return f"{customer}: connected to {host} as {who}."
