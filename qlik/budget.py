"""A Qlik request budget kept in PostgreSQL, shared by every process that uses the same key.

Qlik Cloud limits an API key (about 1,000 requests a minute), not one sync: two projects of
one customer syncing at once, a "test connection" during the nightly sync, any number of
workers on any number of machines must together stay under `QLIK_REQUESTS_PER_MINUTE`. So
the state lives in the database, one row per key in `atlas_private.qlik_request_budget`,
moved by the SECURITY DEFINER functions of qlik migration 0013:

- `qlik_request_slot(key_hash, per_minute)` reserves the key's next start, 60/per_minute
  seconds after the previous one (no burst: at most per_minute starts in any 60 seconds),
  and returns the seconds to wait for it, measured on the database's clock so that machines
  with different clocks agree. One round trip per request.
- `qlik_request_hold(key_hash, seconds)` moves the key's next start to now + seconds at
  the earliest, for everyone: the tenant answered 429 with Retry-After.

Only the SHA-256 hex of the key is sent and stored, never the key.

The database connection: the budget opens one of its own (Django's `create_connection` of
the same alias, so the same settings, test database and embedded server), in autocommit,
shared by the client's worker threads under a lock and closed by `close()`. Not the caller's
connection, because the worker threads have none and a reservation must neither join nor
wait for the caller's transaction (which may be a long sync, or be rolled back); and the
slot must be committed at once to be seen by the other processes. The two calls are raw
`SELECT fn(...)` statements — the one exception to "raw SQL only in migrations" this module
owns: the logic is in the migration's functions, and the ORM cannot run a query on a
connection that is not one of `settings.DATABASES`.

A reservation is final: a `hold()` pushes back the starts reserved after it, not those
already handed out (at most one per thread of each client), and a start is late by the
network time of its reply, never early.
"""

import hashlib
import math
import threading
import time
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

SLOT_SQL = "SELECT atlas_private.qlik_request_slot(%s, %s)"
HOLD_SQL = "SELECT atlas_private.qlik_request_hold(%s, %s)"


def key_hash(key: str) -> str:
    """What the database knows of a key (and tenant URL material): its SHA-256 in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


class PostgresRequestBudget:
    """At most `per_minute` request starts a minute for one key, across every process.

    Thread-safe. `per_minute <= 0` means unlimited: no database connection is ever opened.
    """

    def __init__(
        self,
        *,
        key: str,
        per_minute: int,
        sleep: Callable[[float], None] = time.sleep,
        using: str = DEFAULT_DB_ALIAS,
    ):
        self.per_minute = per_minute
        self._key_hash = key_hash(key)  # the key itself is not kept
        self._sleep = sleep
        self._using = using
        self._lock = threading.Lock()
        self._connection = None

    def __repr__(self) -> str:
        return f"PostgresRequestBudget(per_minute={self.per_minute})"

    def acquire(self) -> float:
        """Wait until a request may start; return how many seconds that took."""
        if self.per_minute <= 0:
            return 0.0
        wait = max(float(self._call(SLOT_SQL, [self._key_hash, self.per_minute])), 0.0)
        if wait > 0:
            self._sleep(wait)
        return wait

    def hold(self, seconds: float) -> None:
        """No request with this key starts, in any process, before `seconds` from now."""
        if self.per_minute <= 0 or not math.isfinite(seconds) or seconds <= 0:
            return
        self._call(HOLD_SQL, [self._key_hash, float(seconds)])

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection.dec_thread_sharing()
                self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, statement: str, params: list):
        with self._lock:
            if self._connection is None:
                connection = connections.create_connection(self._using)
                # The client's worker threads take turns on it, under self._lock.
                connection.inc_thread_sharing()
                self._connection = connection
            try:
                return self._execute(statement, params)
            except (InterfaceError, OperationalError):
                # A connection dropped during a long sync: one fresh attempt. A reservation
                # made twice only spaces this client's requests a little more.
                self._connection.close()
                return self._execute(statement, params)

    def _execute(self, statement: str, params: list):
        with self._connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchone()[0]
