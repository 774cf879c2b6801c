"""Encrypted credentials: ciphertext at rest, plaintext through the model, rotation, failure."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from atlas import crypto
from atlas.fields import UndecryptableSecret
from customers.models import Customer
from customers.services import customer_create, customer_credentials_set

SECRET = "qlik-api-key-plaintext-4711"


def _stored(customer: Customer, column: str = "api_key") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM customers WHERE id = %s", [customer.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def customer(as_system):
    return customer_create(
        name="Acme", tenant_url="https://acme.example.com", api_key=SECRET, oauth_client_secret="oauth-s3cret"
    )


def test_secrets_are_ciphertext_in_the_table_and_plaintext_through_the_model(customer):
    stored = _stored(customer)
    assert SECRET not in stored
    assert crypto.decrypt(stored) == SECRET
    assert "oauth-s3cret" not in _stored(customer, "oauth_client_secret")
    assert Customer.objects.get(pk=customer.pk).api_key == SECRET


def test_saving_without_changing_a_secret_keeps_its_token(customer):
    token = _stored(customer)
    reloaded = Customer.objects.get(pk=customer.pk)
    reloaded.name = "Acme Renamed"
    reloaded.save()
    assert _stored(customer) == token


def test_setting_a_secret_records_when_credentials_changed(customer):
    before = customer.credentials_changed_at
    customer_credentials_set(customer=customer, api_key="new-key-0815")
    reloaded = Customer.objects.get(pk=customer.pk)
    assert reloaded.api_key == "new-key-0815"
    assert reloaded.credentials_changed_at > before
    customer_credentials_set(customer=reloaded, api_key="")
    assert Customer.objects.get(pk=customer.pk).api_key is None
    assert _stored(customer) is None


def test_secrets_survive_key_rotation(customer, settings):
    old_key = settings.ATLAS_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ATLAS_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys")
    assert Fernet(new_key.encode()).decrypt(_stored(customer).encode()).decode() == SECRET
    settings.ATLAS_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    reloaded = Customer.objects.get(pk=customer.pk)
    assert (reloaded.api_key, reloaded.oauth_client_secret) == (SECRET, "oauth-s3cret")


def test_an_undecryptable_secret_raises_naming_the_customer(customer, settings):
    settings.ATLAS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    reloaded = Customer.objects.get(pk=customer.pk)
    with pytest.raises(UndecryptableSecret, match="customer Acme") as excinfo:
        _ = reloaded.api_key
    assert SECRET not in str(excinfo.value)
    token = _stored(customer)
    with pytest.raises(CommandError, match=r"customer Acme.*Nothing was re-encrypted"):
        call_command("rotate_encryption_keys")
    assert _stored(customer) == token


def test_a_malformed_key_is_a_configuration_error_naming_its_position():
    with (
        override_settings(ATLAS_ENCRYPTION_KEYS=[Fernet.generate_key().decode(), "not-a-key"]),
        pytest.raises(ImproperlyConfigured, match="entry 2"),
    ):
        crypto.encrypt("x")


def test_serialization_gives_the_token_never_the_plaintext(customer):
    field = Customer._meta.get_field("api_key")
    assert SECRET not in field.value_from_object(Customer.objects.get(pk=customer.pk))
    assert SECRET not in field.value_from_object(Customer(name="n", api_key=SECRET))
