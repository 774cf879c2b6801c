"""Re-encrypt every stored secret with the first key of ATLAS_ENCRYPTION_KEYS."""

from django.core.management.base import CommandError

from atlas.commands import TenantCommand
from atlas.fields import UndecryptableSecret
from customers.services import customer_encryption_keys_rotate


class Command(TenantCommand):
    help = (
        "Re-encrypt every stored secret with the first key in ATLAS_ENCRYPTION_KEYS. Put the "
        "new key first, keep the old ones after it, run this, then drop the old keys."
    )

    def handle(self, *args, **options):
        try:
            count = customer_encryption_keys_rotate()
        except UndecryptableSecret as exc:
            raise CommandError(f"{exc} Nothing was re-encrypted.")
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} secret(s) with the first key."))
