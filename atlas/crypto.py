"""Symmetric encryption of stored secrets with MultiFernet keys from ATLAS_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so a new key can be put first, secrets
re-encrypted with `manage.py rotate_encryption_keys`, and the old key then dropped.
The keys are independent of SECRET_KEY on purpose (see ../shared/spec/README.md).
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "load_keys", "rotate"]


@lru_cache(maxsize=4)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.strip().encode()))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"ATLAS_ENCRYPTION_KEYS entry {position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from exc
    if not fernets:
        raise ImproperlyConfigured("ATLAS_ENCRYPTION_KEYS is empty.")
    return MultiFernet(fernets)


def load_keys() -> MultiFernet:
    return _multi_fernet(tuple(settings.ATLAS_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return load_keys().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with any configured key; raises InvalidToken when none fits."""
    return load_keys().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypt a token with the first key; raises InvalidToken when no key decrypts it."""
    return load_keys().rotate(token.encode()).decode()
