"""A client for a customer's tenant, with its decrypted key and the key's shared budget."""

import time

from django.conf import settings

from qlik.budget import PostgresRequestBudget
from qlik.client import ClientOptions, QlikClient, QlikCredentialsRejected


def client_options() -> ClientOptions:
    return ClientOptions(
        timeout=settings.QLIK_TIMEOUT_SECONDS,
        max_retries=settings.QLIK_MAX_RETRIES,
        max_retry_seconds=settings.QLIK_MAX_RETRY_SECONDS,
        requests_per_minute=settings.QLIK_REQUESTS_PER_MINUTE,
        concurrency=settings.QLIK_CONCURRENCY,
        paths={**ClientOptions().paths, **settings.QLIK_API_PATHS},
    )


def qlik_client_for(*, customer) -> QlikClient:
    """A client with the customer's decrypted key (raises UndecryptableSecret naming it).

    Its requests draw on the key's budget kept in PostgreSQL, shared with every other
    client of the same key (a second project's sync, a "test connection", other workers)."""
    api_key = customer.api_key
    if not api_key:
        raise QlikCredentialsRejected(f"{customer} has no Qlik API key: set one on the customer first.")
    options = client_options()
    budget = None  # unlimited (QLIK_REQUESTS_PER_MINUTE=0): the client's own, for Retry-After
    if options.requests_per_minute > 0:
        budget = PostgresRequestBudget(
            key=f"{customer.tenant_url}\n{api_key}",
            per_minute=options.requests_per_minute,
            sleep=lambda seconds: time.sleep(seconds),  # looked up per pause, as the client does
        )
    return QlikClient(customer.tenant_url, api_key, options=options, budget=budget)
