"""A client for a customer's tenant, with its decrypted key and the key's shared budget."""

from django.conf import settings

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
    """A client with the customer's decrypted key (raises UndecryptableSecret naming it)."""
    api_key = customer.api_key
    if not api_key:
        raise QlikCredentialsRejected(f"{customer} has no Qlik API key: set one on the customer first.")
    return QlikClient(customer.tenant_url, api_key, options=client_options())
