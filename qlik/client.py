"""HTTP client for the Qlik Cloud REST API: paging, retries, a request budget. No ORM.

Returns plain JSON data. Every answer that is not what the API promises raises
`QlikBadResponse` naming the endpoint. Errors carry the HTTP status and the endpoint, so
the sync can tell the key from the resource:
- `QlikCredentialsRejected`: 401 anywhere, or 403 on a tenant-level call (`/users/me`) —
  the key itself is wrong, expired or powerless. Never retried.
- `QlikRefused`: any other 4xx (403 on one app's script, 404 for an app deleted since the
  listing, 410 ...) — says something about that resource, nothing about the key.
- `QlikUnavailable`: 429, 5xx and connection errors, retried with exponential backoff and
  full jitter (honouring `Retry-After` in seconds or as an HTTP date), bounded in count and
  in total time, until they ran out.
Requests start only when the request budget allows; the budget may be shared by every
process using the key (qlik.budget). The API key only ever travels in the Authorization
header: it is not part of any error message, log line or repr.
"""

import logging
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import quote, urljoin

import httpx

logger = logging.getLogger(__name__)

DEFAULT_PATHS = {
    "spaces": "/api/v1/spaces",
    "items": "/api/v1/items",
    "apps": "/api/v1/apps",
    "data_connections": "/api/v1/data-connections",
    "reloads": "/api/v1/reloads",
    "audits": "/api/v1/audits",
    "users_me": "/api/v1/users/me",
    "users": "/api/v1/users",
    "lineage_graphs": "/api/v1/lineage-graphs/nodes",
}
SHEET_VIEW_EVENT = "com.qlik.v1.analytics.analytics-app-client.sheet-view.opened"
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class QlikError(Exception):
    """The tenant could not give what was asked; the message is safe to show and log."""

    def __init__(self, message: str, *, status: int | None = None, endpoint: str = ""):
        super().__init__(message)
        self.status = status  # the HTTP status that ended it, where there was one
        self.endpoint = endpoint  # the endpoint pattern, e.g. /api/v1/apps/{appId}


class QlikCredentialsRejected(QlikError):
    """401 anywhere, or 403 on a tenant-level call: the key is wrong, expired or powerless."""


class QlikRefused(QlikError):
    """A 4xx about one resource (403 not readable, 404/410 gone): nothing about the key."""


class QlikUnavailable(QlikError):
    """Retries ran out (rate limits, server errors, network)."""


class QlikBadResponse(QlikError):
    """The answer is not shaped as the API documents."""


@dataclass
class ClientOptions:
    """Tunables, from settings (QLIK_*) in production and set directly by tests."""

    timeout: float = 30.0
    page_limit: int = 100
    max_retries: int = 6
    max_retry_seconds: float = 120.0
    backoff_base: float = 0.5
    requests_per_minute: int = 900  # under Tier 1 (1,000/min per tenant)
    concurrency: int = 4
    paths: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PATHS))


@dataclass
class ClientStats:
    """What a client did, for the sync-run record and the benchmark."""

    calls: int = 0
    rate_limited: int = 0
    retries: int = 0
    bytes: int = 0
    waited_seconds: float = 0.0
    by_endpoint: Counter = field(default_factory=Counter)  # endpoint pattern -> calls


class Budget(Protocol):
    """When a request may start. `hold` is called when the tenant said to wait."""

    def acquire(self) -> float: ...

    def hold(self, seconds: float) -> None: ...


class RequestBudget:
    """A sliding one-minute window in this process: at most `per_minute` requests start in
    any 60 seconds. For a key used by one client only (tests, offline tools); the sync
    shares a budget per key across processes (qlik.budget)."""

    def __init__(self, per_minute: int, *, sleep: Callable[[float], None]):
        self.per_minute = per_minute
        self._starts: deque[float] = deque()
        self._not_before = 0.0
        self._lock = threading.Lock()
        self._sleep = sleep

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def acquire(self) -> float:
        """Wait for a slot; return how long we waited."""
        with self._lock:
            not_before = self._not_before
            held = not_before - time.monotonic()
        waited = 0.0
        if held > 0:  # the tenant said to wait: every request of the key waits it out
            self._sleep(held)
            waited += held
            with self._lock:  # waited out (also when `sleep` is virtual, as in tests)
                if self._not_before == not_before:
                    self._not_before = 0.0
        if self.per_minute <= 0:
            return waited
        while True:
            with self._lock:
                now = time.monotonic()
                while self._starts and now - self._starts[0] >= 60.0:
                    self._starts.popleft()
                if len(self._starts) < self.per_minute:
                    self._starts.append(now)
                    return waited
                pause = 60.0 - (now - self._starts[0])
            self._sleep(pause)
            waited += pause


class QlikClient:
    """One tenant, one API key. Thread-safe: per-app calls run on a bounded pool."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        options: ClientOptions | None = None,
        sleep: Callable[[float], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        budget: Budget | None = None,
    ):
        self.options = options or ClientOptions()
        self.base_url = base_url.rstrip("/")
        self.stats = ClientStats()
        # Looked up at each pause, so a test can replace time.sleep after the client exists.
        self._sleep = sleep or (lambda seconds: time.sleep(seconds))
        self._budget = budget or RequestBudget(self.options.requests_per_minute, sleep=self._sleep)
        self._stats_lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=self.options.timeout,
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max(self.options.concurrency, 1) + 1),
        )

    def __repr__(self) -> str:
        return f"QlikClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()
        if hasattr(self._budget, "close"):
            self._budget.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- transport ---------------------------------------------------------------------

    def _count(self, **deltas) -> None:
        with self._stats_lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)

    def _retry_pause(self, attempt: int, response: httpx.Response | None) -> tuple[float, bool]:
        """How long to wait before the next attempt, and whether the whole key must wait
        (the tenant's `Retry-After`) rather than this request alone."""
        if response is not None and response.status_code == 429:
            retry_after = retry_after_seconds(response.headers.get("Retry-After", ""))
            if retry_after is not None:
                return retry_after + random.uniform(0, self.options.backoff_base), True  # noqa: S311
        # Full jitter: spreads retries of concurrent calls instead of a synchronized herd.
        return random.uniform(0, self.options.backoff_base * 2**attempt), False  # noqa: S311

    def get(
        self,
        path_or_url: str,
        params: dict | None = None,
        *,
        endpoint: str | None = None,
        tenant_level: bool = False,
    ):
        """GET one resource; returns the parsed JSON body.

        A 403 means the key itself is powerless only on a `tenant_level` call; elsewhere it
        is about the resource (`QlikRefused`)."""
        endpoint = endpoint or path_or_url.split("?", 1)[0]
        started = time.monotonic()
        attempt = 0
        while True:
            waited = self._budget.acquire()
            response, failure = None, None
            try:
                response = self._http.get(path_or_url, params=params)
            except httpx.TransportError as exc:  # connect, read, timeout
                failure = f"{type(exc).__name__}"
            self._count(calls=1, waited_seconds=waited)
            with self._stats_lock:
                self.stats.by_endpoint[endpoint] += 1
            if response is not None:
                self._count(bytes=len(response.content))
                status = response.status_code
                if status == 401 or (status == 403 and tenant_level):
                    raise QlikCredentialsRejected(
                        f"Qlik credentials rejected by {self.base_url} ({status} on "
                        f"{endpoint}): {_error_title(response)}",
                        status=status,
                        endpoint=endpoint,
                    )
                if response.status_code == 429:
                    self._count(rate_limited=1)
                if response.status_code not in RETRIED_STATUSES:
                    break
                failure = f"HTTP {response.status_code}: {_error_title(response)}"
            pause, whole_key = self._retry_pause(attempt, response)
            elapsed = time.monotonic() - started
            if attempt >= self.options.max_retries or elapsed + pause > self.options.max_retry_seconds:
                raise QlikUnavailable(
                    f"{endpoint} failed after {attempt + 1} attempts in {elapsed:.0f}s: {failure}",
                    status=response.status_code if response is not None else None,
                    endpoint=endpoint,
                )
            logger.info("Qlik %s: %s; retrying in %.1fs", endpoint, failure, pause)
            self._count(retries=1)
            if whole_key:  # every request of this key, in every process, waits in acquire()
                self._budget.hold(pause)
            else:
                self._count(waited_seconds=pause)
                self._sleep(pause)
            attempt += 1
        if response.status_code >= 400:
            raise QlikRefused(
                f"{endpoint} answered HTTP {response.status_code}: {_error_title(response)}",
                status=response.status_code,
                endpoint=endpoint,
            )
        try:
            return response.json()
        except ValueError:
            raise QlikBadResponse(
                f"{endpoint} did not answer JSON (HTTP {response.status_code})", endpoint=endpoint
            )

    def paginate(self, path: str, params: dict | None = None) -> Iterator[list[dict]]:
        """Yield each page's `data` list, following `links.next.href` whatever its cursor."""
        url, query = path, {"limit": self.options.page_limit, **(params or {})}
        seen = set()
        while url:
            body = self.get(url, query, endpoint=path)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise QlikBadResponse(f"{path} answered without a 'data' list", endpoint=path)
            if not all(isinstance(obj, dict) for obj in body["data"]):
                raise QlikBadResponse(f"{path} answered a 'data' list holding non-objects", endpoint=path)
            yield body["data"]
            links = body.get("links") if isinstance(body.get("links"), dict) else {}
            next_link = links.get("next") if isinstance(links.get("next"), dict) else {}
            next_href = next_link.get("href")
            if next_href is not None and not isinstance(next_href, str):
                raise QlikBadResponse(f"{path} answered a non-string links.next.href", endpoint=path)
            if next_href in seen:
                raise QlikBadResponse(f"{path} sent the same next page twice: {next_href}", endpoint=path)
            seen.add(next_href)
            # The next link carries the cursor and every parameter; send it as given.
            url, query = (urljoin(self.base_url + "/", next_href) if next_href else None), None

    def parallel(self, function: Callable, arguments: Iterable) -> list:
        """`function` over `arguments` on at most `concurrency` threads, results in order."""
        arguments = list(arguments)
        if self.options.concurrency <= 1 or len(arguments) <= 1:
            return [function(argument) for argument in arguments]
        with ThreadPoolExecutor(max_workers=self.options.concurrency) as pool:
            return list(pool.map(function, arguments))

    # --- endpoints ---------------------------------------------------------------------

    def _path(self, name: str) -> str:
        return self.options.paths.get(name, DEFAULT_PATHS[name])

    def me(self) -> dict:
        """The cheapest authenticated call: who the key belongs to (a 403 here is the key's)."""
        body = self.get(self._path("users_me"), tenant_level=True)
        if not isinstance(body, dict):
            raise QlikBadResponse(f"{self._path('users_me')} did not answer an object")
        return body

    def spaces(self) -> Iterator[list[dict]]:
        return self.paginate(self._path("spaces"))

    def app_items(self) -> Iterator[list[dict]]:
        return self.paginate(self._path("items"), {"resourceType": "app"})

    def users(self) -> Iterator[list[dict]]:
        """The tenant's users (ids, names): how owners get their names."""
        return self.paginate(self._path("users"))

    def dataset_items(self) -> Iterator[list[dict]]:
        """The catalog's datasets: data files (QVD, CSV, XLSX ...) and connection-based ones."""
        return self.paginate(self._path("items"), {"resourceType": "dataset"})

    def data_connections(self) -> Iterator[list[dict]]:
        return self.paginate(self._path("data_connections"))

    def reloads(self) -> Iterator[list[dict]]:
        """Every app's reloads, newest first (one listing instead of one per app)."""
        return self.paginate(self._path("reloads"))

    def audits(self, *, event_type: str, since: str, until: str) -> Iterator[list[dict]]:
        return self.paginate(self._path("audits"), {"eventType": event_type, "eventTime": f"{since}/{until}"})

    def app_attributes(self, app_id: str) -> dict:
        endpoint = f"{self._path('apps')}/{{appId}}"
        body = self.get(f"{self._path('apps')}/{quote(app_id, safe='')}", endpoint=endpoint)
        if not isinstance(body, dict) or not isinstance(body.get("attributes"), dict):
            raise QlikBadResponse(f"{endpoint} answered without 'attributes' for {app_id}", endpoint=endpoint)
        return body["attributes"]

    def app_script(self, app_id: str) -> str:
        path = f"{self._path('apps')}/{quote(app_id, safe='')}/scripts/current"
        endpoint = f"{self._path('apps')}/{{appId}}/scripts/current"
        body = self.get(path, endpoint=endpoint)
        if not isinstance(body, dict) or not isinstance(body.get("script"), str):
            raise QlikBadResponse(
                f"{endpoint} answered without a 'script' string for {app_id}", endpoint=endpoint
            )
        return body["script"]

    def reload_metadata(self, app_id: str, reload_id: str) -> dict:
        """One reload's metadata, as the object itself or wrapped in `{"data": [object]}`
        (the shape of Qlik's published API types); either is read."""
        path = f"{self._path('apps')}/{quote(app_id, safe='')}/reloads/metadata/{quote(reload_id, safe='')}"
        endpoint = f"{self._path('apps')}/{{appId}}/reloads/metadata/{{reloadId}}"
        body = self.get(path, endpoint=endpoint)
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            body = body["data"][0] if body["data"] else None
        if not isinstance(body, dict) or not isinstance(body.get("statements", []), list):
            raise QlikBadResponse(
                f"{endpoint} answered neither a metadata object nor {{'data': [object]}} for {app_id}",
                endpoint=endpoint,
            )
        return body

    def lineage_graph(self, qri: str, *, up: int = 5) -> dict:
        """Resource-level lineage of `qri`. Tenants with lineage off answer 403 or 404
        (`QlikRefused`), like an app that is gone."""
        path = f"{self._path('lineage_graphs')}/{quote(qri, safe='')}"
        endpoint = f"{self._path('lineage_graphs')}/{{qri}}"
        body = self.get(path, {"level": "resource", "up": up}, endpoint=endpoint)
        graph = body.get("graph") if isinstance(body, dict) else None
        if not isinstance(graph, dict) or not isinstance(graph.get("nodes", {}), dict):
            raise QlikBadResponse(
                f"{endpoint} answered without a 'graph' whose nodes are a map", endpoint=endpoint
            )
        return graph


def retry_after_seconds(value: str, *, now: datetime | None = None) -> float | None:
    """`Retry-After` in either of its forms: delay-seconds or an HTTP date; None if neither."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_title(response: httpx.Response) -> str:
    """The tenant's own words for an error, from its `errors` list, else the reason phrase."""
    try:
        errors = response.json().get("errors") or []
        first = errors[0]
        return " - ".join(str(first[key]) for key in ("title", "detail") if first.get(key))[:300]
    except (ValueError, AttributeError, IndexError, KeyError, TypeError):
        return response.reason_phrase or "no details"
