from django.apps import AppConfig
from django.conf import settings
from django.db.backends.signals import connection_created


class AtlasConfig(AppConfig):
    """Project-level wiring: key validation, the RLS guard, and the database commands."""

    name = "atlas"
    verbose_name = "qlik_atlas"

    def ready(self) -> None:
        from atlas import crypto, rls

        crypto.load_keys()  # a malformed key stops the start, not the first sync
        if settings.ATLAS_RLS_GUARD:
            connection_created.connect(rls.install_guard, dispatch_uid="atlas_rls_guard")
