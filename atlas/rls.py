"""The one place that sets the database identity read by the Row Level Security policies.

Every entry point runs tenant queries inside `acting_as(user)`: it opens (or joins) a
transaction and sets the transaction-local setting `atlas.user_id`, which PostgreSQL forgets
at commit or rollback, so a persistent or pooled connection never carries one request's
identity into the next. Views get it from `RlsIdentityMiddleware`, management commands from
`atlas.commands.TenantCommand`; background jobs and the API call `acting_as` themselves.

Without an identity the policies return no rows. With `settings.ATLAS_RLS_GUARD` (DEBUG and
the tests) a query on a tenant table outside any identity also raises
`RlsIdentityMissing`, so a forgotten `acting_as` is found at once instead of showing an
empty page.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction

# Tables whose rows are scoped by RLS (quoted as Django's SQL compiler writes them).
TENANT_TABLE_RE = re.compile(
    r'"(customers|projects|user_customer_access|qlik_\w+|lineage_\w+|customers_historical\w+)"'
)


class RlsIdentityMissing(RuntimeError):
    """A tenant table was queried outside `acting_as(...)`."""


@dataclass(frozen=True)
class _Identity:
    user_id: int | None  # None: explicitly nobody (an anonymous request)
    project_id: int | None = None  # narrows project-scoped tables to one project


_identity: ContextVar[_Identity | None] = ContextVar("atlas_rls_identity", default=None)
_guard_suspended: ContextVar[bool] = ContextVar("atlas_rls_guard_suspended", default=False)


def current_user_id() -> int | None:
    """The user id of the identity in force, or None when there is none (or it is anonymous)."""
    identity = _identity.get()
    return identity.user_id if identity else None


def has_identity() -> bool:
    return _identity.get() is not None


def _user_id_of(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def _set_database_identity(identity: _Identity | None, using: str) -> None:
    def text(value: int | None) -> str:
        return "" if value is None else str(value)

    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT set_config('atlas.user_id', %s, true), set_config('atlas.project_id', %s, true)",
            [text(identity and identity.user_id), text(identity and identity.project_id)],
        )


@contextmanager
def acting_as(user, *, project=None, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block in a transaction whose RLS identity is `user` (a User, or anonymous/None).

    With `project` (a Project or its id), the qlik_* and lineage_* tables are further
    narrowed to that one project: what a background job working on it uses.

    Nested use switches the identity for the inner block and restores the outer one after
    it. If the block raises, its savepoint or transaction is rolled back, and PostgreSQL
    reverts the setting with it.
    """
    identity = _Identity(_user_id_of(user), getattr(project, "pk", project))
    previous = _identity.get()
    outermost = not connections[using].in_atomic_block
    with transaction.atomic(using=using):
        _set_database_identity(identity, using)
        token = _identity.set(identity)
        try:
            yield
        finally:
            _identity.reset(token)
        if not outermost and not connections[using].needs_rollback:
            # The savepoint is about to be released, so the setting would outlive the
            # block: restore the outer one. (A savepoint rolled back reverts it itself.)
            _set_database_identity(previous, using)


def request_identity_switch(user, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make `user` the identity for the rest of the request transaction already open.

    For DRF, which authenticates inside the view, after `RlsIdentityMiddleware` opened the
    transaction as the session user (anonymous for a token request). The middleware's
    `acting_as` restores the previous identity when the request ends, and PostgreSQL
    forgets the setting at commit.
    """
    if _identity.get() is None or not connections[using].in_atomic_block:
        raise RlsIdentityMissing(
            "request_identity_switch() needs the request transaction of RlsIdentityMiddleware"
        )
    identity = _Identity(_user_id_of(user))
    _set_database_identity(identity, using)
    _identity.set(identity)


@contextmanager
def guard_suspended() -> Iterator[None]:
    """Let schema work (migrations as the owner role) touch tenant tables without identity."""
    token = _guard_suspended.set(True)
    try:
        yield
    finally:
        _guard_suspended.reset(token)


def _guard(execute, sql, params, many, context):
    if _identity.get() is None and not _guard_suspended.get() and TENANT_TABLE_RE.search(sql):
        raise RlsIdentityMissing(
            "A tenant table was queried without an RLS identity; PostgreSQL would return no "
            "rows. Wrap the code in atlas.rls.acting_as(user) (views get it from "
            f"RlsIdentityMiddleware, commands from TenantCommand). SQL: {sql[:200]}"
        )
    return execute(sql, params, many, context)


def install_guard(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: adds the missing-identity guard to a new connection."""
    if _guard not in connection.execute_wrappers:
        connection.execute_wrappers.append(_guard)


class RlsIdentityMiddleware:
    """Runs the rest of the request, template rendering included, as the authenticated user.

    Django renders a TemplateResponse inside `get_response`, so lazy querysets (the admin
    changelist) are evaluated inside this transaction. A view that raises or answers 5xx
    rolls the transaction back, as ATOMIC_REQUESTS would.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting_as(request.user):
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
        return response

    def process_exception(self, request, exception):
        transaction.set_rollback(True)
