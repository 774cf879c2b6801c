"""Model fields shared by the apps: transparent encrypted text."""

from django.db import models

from atlas import crypto


class Ciphertext(str):
    """A value as stored in the database: a Fernet token, not yet decrypted."""


class UndecryptableSecret(Exception):
    """A stored secret that no key in ATLAS_ENCRYPTION_KEYS can decrypt."""


class _EncryptedAttribute:
    """Decrypts on read, so the owning object can be named in the error; stores as given."""

    def __init__(self, field):
        self.field = field

    def __get__(self, instance, owner):
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname)
        if not isinstance(value, Ciphertext):
            return value
        try:
            return crypto.decrypt(value)
        except crypto.InvalidToken:
            raise UndecryptableSecret(
                f"The {self.field.verbose_name} of {instance._meta.verbose_name} "
                f"{instance} (id {instance.pk}) cannot be decrypted with any key in "
                "ATLAS_ENCRYPTION_KEYS; restore the key it was encrypted with, or set the "
                "secret again."
            ) from None

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Text stored as a MultiFernet token and read back as plaintext.

    Reading an undecryptable value raises `UndecryptableSecret` naming the object; it is
    never returned as if it were the secret. Saving an object leaves an unchanged secret's
    token as it is, so saving a customer whose key was lost does not fail or re-encrypt.
    `value_from_object` (used by serialization and forms) gives the stored token, never the
    plaintext.
    """

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, self.attname, _EncryptedAttribute(self))

    def from_db_value(self, value, expression, connection):
        return None if value is None else Ciphertext(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or isinstance(value, Ciphertext):
            return value
        return crypto.encrypt(value)

    def pre_save(self, model_instance, add):
        return model_instance.__dict__.get(self.attname)

    def value_from_object(self, obj):
        stored = obj.__dict__.get(self.attname)
        if stored is None or isinstance(stored, Ciphertext):
            return stored
        return Ciphertext(crypto.encrypt(stored))
