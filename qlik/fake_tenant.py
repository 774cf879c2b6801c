"""A fake Qlik Cloud tenant: a real HTTP server speaking the REST API the sync uses.

Deterministic from a seed and a size (spaces, apps, data connections, load scripts with
LOAD / STORE / SQL statements, reloads with their metadata, item views, audit sheet-view
events), so tests, the demo and the benchmark see the same estate every time. Switches,
settable while it runs, reproduce what real tenants do: 429 bursts with `Retry-After`, a
rate limit per minute, permanent 5xx, slow answers, malformed bodies, vanished and changed
apps. It records every request, so tests can count calls per endpoint.
"""

import base64
import hashlib
import json
import random
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

SHEET_VIEW_EVENT = "com.qlik.v1.analytics.analytics-app-client.sheet-view.opened"
CONNECTION_KINDS = ("snowflake", "postgres", "sqlserver", "folder", "sharepoint", "rest")
WORDS = (
    "Sales", "Finance", "Stock", "Orders", "Budget", "Churn", "Margin", "Supply", "Payroll",
    "Forecast", "Leads", "Returns", "Pricing", "Claims", "Traffic", "Quality",
)  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _guid(seed: int, *parts) -> str:
    return str(uuid.UUID(hashlib.md5(f"{seed}/{'/'.join(map(str, parts))}".encode()).hexdigest()))  # noqa: S324


def _hex24(seed: int, *parts) -> str:
    return hashlib.sha1(f"{seed}/{'/'.join(map(str, parts))}".encode()).hexdigest()[:24]  # noqa: S324


@dataclass
class Switches:
    """Misbehaviours, changeable while the server runs."""

    rate_limit_burst: int = 0  # the next N requests answer 429
    retry_after: int = 1  # seconds, in the 429's Retry-After
    requests_per_minute: int = 0  # 0: unlimited; else a sliding-window limit (Tier 1: 1000)
    fail_paths: dict[str, int] = field(default_factory=dict)  # path prefix -> HTTP status
    malformed_paths: set[str] = field(default_factory=set)  # path prefix -> non-JSON body
    slow_seconds: float = 0.0  # delay before each answer
    slow_paths: set[str] = field(default_factory=set)  # only these prefixes (empty: all)
    absolute_next_links: bool = False  # next.href as a full URL instead of a path
    page_size_cap: int = 100  # the server's own maximum page size
    lineage_api: bool = True  # False: /lineage-graphs answers 404, as on tenants with it off


class FakeEstate:
    """The tenant's content, generated lazily per object from (seed, index)."""

    def __init__(
        self,
        *,
        seed: int = 1,
        apps: int = 50,
        spaces: int | None = None,
        connections: int | None = None,
        today: datetime | None = None,
    ):
        # Dates are relative to "today" (midnight UTC), so the estate looks alive whenever it
        # is served; everything else depends on the seed alone.
        self.today = today or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.seed = seed
        self.app_count = apps
        self.space_count = spaces if spaces is not None else max(3, apps // 50)
        self.connection_count = connections if connections is not None else max(4, apps // 40)
        self.tenant_id = _hex24(seed, "tenant")
        self.removed_apps: set[int] = set()
        self.touched_apps: dict[int, datetime] = {}
        self.spaces = [self._space(n) for n in range(self.space_count)]
        self.connections = [self._connection(n) for n in range(self.connection_count)]
        self._reloads = self._all_reloads()

    # --- spaces and connections -------------------------------------------------------

    def _space(self, n: int) -> dict:
        rng = random.Random(f"{self.seed}:space:{n}")  # noqa: S311
        return {
            "id": _hex24(self.seed, "space", n),
            "name": f"{WORDS[n % len(WORDS)]} {n}",
            "description": "",
            "type": ("shared", "managed", "data")[n % 3],
            "ownerId": _hex24(self.seed, "user", rng.randrange(20)),
            "tenantId": self.tenant_id,
            "createdAt": _iso(self.today - timedelta(days=400 + n)),
            "createdBy": _hex24(self.seed, "user", 0),
            "updatedAt": _iso(self.today - timedelta(days=rng.randrange(1, 90))),
            "meta": {"actions": ["read"], "roles": [], "assignableRoles": []},
        }

    def _connection(self, n: int) -> dict:
        kind = CONNECTION_KINDS[n % len(CONNECTION_KINDS)]
        name = f"{kind.capitalize()}_{WORDS[n % len(WORDS)]}_{n}"
        connection_id = _guid(self.seed, "connection", n)
        space = self.spaces[n % self.space_count]["id"]
        statement = (
            f'CUSTOM CONNECT TO "provider=QvOdbcConnectorPackage.exe;driver={kind};host={kind}.example.com;"'
            if kind not in ("folder", "sharepoint")
            else f"lib://{name}"
        )
        return {
            "id": connection_id,
            "qID": connection_id,
            "qName": name,
            "qType": kind if kind != "folder" else "folder",
            "qConnectStatement": statement,
            "datasourceID": kind,
            "space": space,
            "user": _hex24(self.seed, "user", n % 20),
            "tenant": self.tenant_id,
            "created": _iso(self.today - timedelta(days=300 + n)),
            "updated": _iso(self.today - timedelta(days=n % 60)),
            "version": "V1",
            "qri": f"qri:db:{kind}://{_hex24(self.seed, 'qri', n)}",
            "tags": [],
            "links": {"self": {"href": f"/api/v1/data-connections/{connection_id}"}},
            "privileges": ["list", "read", "update", "delete"],
            "qCredentialsID": "",
            "qLogOn": "0",
            "qSeparateCredentials": False,
            "qArchitecture": "0",
            "qEngineObjectID": connection_id,
        }

    def connection_secret(self, n: int) -> str:
        return f"fake-connection-password-{_hex24(self.seed, 'secret', n)}"

    # --- apps ---------------------------------------------------------------------------

    def _rng(self, n: int) -> random.Random:
        return random.Random(f"{self.seed}:app:{n}")  # noqa: S311

    def app_guid(self, n: int) -> str:
        return _guid(self.seed, "app", n)

    def app_index(self, guid: str) -> int | None:
        try:
            n = int(self._guid_index()[guid])
        except KeyError:
            return None
        return None if n in self.removed_apps else n

    def _guid_index(self) -> dict[str, int]:
        if not hasattr(self, "_by_guid"):
            self._by_guid = {self.app_guid(n): n for n in range(self.app_count)}
        return self._by_guid

    def app_ids(self) -> list[int]:
        return [n for n in range(self.app_count) if n not in self.removed_apps]

    def _app_profile(self, n: int) -> dict:
        rng = self._rng(n)
        never_reloaded = rng.random() < 0.08
        views = 0 if rng.random() < 0.3 else int(rng.paretovariate(1.2) * 3)
        return {
            "never_reloaded": never_reloaded,
            "failed": not never_reloaded and rng.random() < 0.07,
            "reloads": 0 if never_reloaded else rng.randrange(1, 4),
            "views": views,
            "unique": min(views, 1 + views // 4) if views else 0,
            "personal": rng.random() < 0.05,
            "space": rng.randrange(self.space_count),
            "connections": rng.sample(range(self.connection_count), k=min(2, self.connection_count)),
            "updated_days": rng.randrange(1, 200),
        }

    def app_item(self, n: int) -> dict:
        profile, guid = self._app_profile(n), self.app_guid(n)
        name = f"{WORDS[(n // 4) % len(WORDS)]} {('Extract', 'Model', 'Dashboard', 'Report')[n % 4]} {n}"
        reloads = self.app_reloads(n)
        last = reloads[0] if reloads else None
        updated = self.touched_apps.get(n, self.today - timedelta(days=profile["updated_days"]))
        weeks = [
            {
                "start": _iso(self.today - timedelta(days=7 * (w + 1))),
                "total": profile["views"] // 4,
                "unique": 1,
            }
            for w in range(4)
        ]
        return {
            "id": _hex24(self.seed, "item", n),
            "name": name,
            "description": f"{name}, generated by the fake tenant",
            "resourceId": guid,
            "resourceType": "app",
            "resourceSubType": "",
            "spaceId": None if profile["personal"] else self.spaces[profile["space"]]["id"],
            "ownerId": _hex24(self.seed, "user", n % 20),
            "creatorId": _hex24(self.seed, "user", n % 20),
            "updaterId": _hex24(self.seed, "user", n % 20),
            "tenantId": self.tenant_id,
            "createdAt": _iso(self.today - timedelta(days=500)),
            "updatedAt": _iso(updated),
            "resourceCreatedAt": _iso(self.today - timedelta(days=500)),
            "resourceUpdatedAt": _iso(updated),
            "resourceReloadEndTime": last["endTime"] if last else None,
            "resourceReloadStatus": ("failed" if last["status"] == "FAILED" else "ok") if last else "",
            "resourceSize": {"appFile": 1000 + n, "appMemory": 5000 + n},
            "resourceAttributes": {"id": guid, "name": name, "hasSectionAccess": False},
            "meta": {"tags": [], "collections": [], "actions": ["read"]},
            "itemViews": {
                "total": profile["views"],
                "unique": profile["unique"],
                "trend": 0.0,
                "usedBy": profile["unique"],
                "week": weeks,
            },
        }

    def app_attributes(self, n: int) -> dict:
        item = self.app_item(n)
        return {
            "attributes": {
                "id": item["resourceId"],
                "name": item["name"],
                "description": item["description"],
                "ownerId": item["ownerId"],
                "createdDate": item["resourceCreatedAt"],
                "modifiedDate": item["resourceUpdatedAt"],
                "lastReloadTime": item["resourceReloadEndTime"],
                "publishTime": None,
                "published": False,
                "originAppId": "",
                "hasSectionAccess": False,
                "encrypted": True,
                "isDirectQueryMode": False,
                "usage": "ANALYTICS",
                "custom": {},
                "fileName": f"{item['resourceId']}.qvf",
            },
            "privileges": ["read"],
        }

    def _files_connection(self, n: int) -> dict:
        """The folder connection shared by the four apps of a chain (n // 4)."""
        return self.connections[(n // 4) % self.connection_count]

    def _file_qri(self, path: str) -> str:
        return f"qri:qdf:space://{_hex24(self.seed, 'file', path.lower())}"

    def app_flows(self, n: int) -> list[dict]:
        """What app n reads and writes; its script, reload metadata and lineage agree.

        Apps come in chains of four (n // 4): an Extract reads database tables and stores a
        QVD, a Model loads that QVD and stores its own, a Dashboard binary-loads the Model,
        a Report loads the Model's QVD. Each kind: load_sql, load_file, store, binary.
        """
        role, base = n % 4, n - n % 4
        sql = self.connections[self._app_profile(n)["connections"][0]]
        files = self._files_connection(n)["qName"]
        table = WORDS[n % len(WORDS)]
        flows: list[dict] = []
        if role == 0:
            flows.append({"kind": "load_sql", "connection": sql, "table": f"dwh.{table.lower()}_{n % 7}"})
            flows.append({"kind": "load_sql", "connection": sql, "table": "dwh.calendar"})
            flows.append({"kind": "store", "path": f"lib://{files}/Extract/{table}_{n}.qvd"})
        elif role == 1:
            source = f"lib://{files}/Extract/{WORDS[base % len(WORDS)]}_{base}.qvd"
            flows.append({"kind": "load_file", "path": source, "spelling": f"[{source.lower()[:-3]}QVD]"})
            flows.append({"kind": "store", "path": f"lib://{files}/Model/{table}_{n}.qvd"})
        elif role == 2 and base + 1 < self.app_count:
            flows.append({"kind": "binary", "app": self.app_guid(base + 1)})
            flows.append({"kind": "load_file", "path": f"lib://{files}/Targets.xlsx"})
        elif role == 3 and base + 1 < self.app_count:
            source = f"lib://{files}/Model/{WORDS[(base + 1) % len(WORDS)]}_{base + 1}.qvd"
            flows.append(
                {"kind": "load_file", "path": source, "spelling": f"[{source.replace('/', chr(92))}]"}
            )
        return flows

    def app_script(self, n: int) -> str:
        lines = [f"// {WORDS[n % len(WORDS)]} app {n}, generated", "SET vYear = 2025;"]
        for flow in self.app_flows(n):
            if flow["kind"] == "binary":
                lines.insert(0, f"Binary [{flow['app']}];")
            elif flow["kind"] == "load_sql":
                lines += [
                    f"LIB CONNECT TO '{flow['connection']['qName']}';",
                    f"[{flow['table']}]:",
                    f"SQL SELECT id, amount, created_at\n  FROM {flow['table']}\n  WHERE year >= $(vYear);",
                ]
            elif flow["kind"] == "load_file":
                spelling = flow.get("spelling", f"[{flow['path']}]")
                spec = "(ooxml, embedded labels, table is Sheet1)" if spelling.endswith(".xlsx]") else "(qvd)"
                lines += ["Facts:", f"LOAD *\nFROM {spelling} {spec};"]
            else:
                lines.append(f"STORE Facts INTO [{flow['path']}] (qvd);")
        if n % 4 == 3:  # a path only known at reload time: the parser reports it unresolved
            files = self._files_connection(n)["qName"]
            lines += [
                "LET vDay = Date(Today(), 'YYYYMMDD');",
                f"LOAD * FROM [lib://{files}/Daily/sales_$(vDay).csv] (txt);",
            ]
        lines += ["Calendar:", "LOAD * INLINE [Month, Quarter\nJan, Q1\nFeb, Q1];"]
        return "\n".join(lines) + "\n"

    def lineage_graph(self, n: int) -> dict:
        """Qlik's resource-level lineage of app n: what its last reload read, keyed by QRI."""
        app_qri = f"qri:app:sense://{self.app_guid(n)}"
        nodes = {
            app_qri: {"label": self.app_item(n)["name"], "metadata": {"id": self.app_guid(n), "type": "APP"}}
        }
        edges = []
        for flow in self.app_flows(n):
            if flow["kind"] == "load_sql":
                qri, label, kind = flow["connection"]["qri"], flow["connection"]["qName"], "DATA_CONNECTION"
            elif flow["kind"] == "load_file":
                qri, label, kind = self._file_qri(flow["path"]), flow["path"], "DATASET"
            else:
                continue
            nodes[qri] = {"label": label, "metadata": {"id": qri, "type": kind}}
            edges.append({"id": f"{qri}->{app_qri}", "source": qri, "target": app_qri, "relation": "from"})
        return {"directed": True, "label": "lineage", "type": "RESOURCE", "nodes": nodes, "edges": edges}

    def app_reloads(self, n: int) -> list[dict]:
        profile, rng = self._app_profile(n), random.Random(f"{self.seed}:reloads:{n}")  # noqa: S311
        reloads = []
        for r in range(profile["reloads"]):
            end = self.today - timedelta(days=r * 9 + rng.randrange(0, 5), minutes=rng.randrange(600))
            failed = profile["failed"] and r == 0
            reloads.append(
                {
                    "id": _hex24(self.seed, "reload", n, r),
                    "appId": self.app_guid(n),
                    "tenantId": self.tenant_id,
                    "userId": _hex24(self.seed, "user", n % 20),
                    "type": "chronos",
                    "status": "FAILED" if failed else "SUCCEEDED",
                    "creationTime": _iso(end - timedelta(minutes=3)),
                    "startTime": _iso(end - timedelta(minutes=2)),
                    "endTime": _iso(end),
                    "engineTime": "120s",
                    "errorCode": "ReloadFailed" if failed else "",
                    "errorMessage": "Connection refused" if failed else "",
                    "partial": False,
                }
            )
        return reloads

    def _all_reloads(self) -> list[tuple[str, int, int]]:
        entries = []
        for n in range(self.app_count):
            for r, reload in enumerate(self.app_reloads(n)):
                entries.append((reload["creationTime"], n, r))
        entries.sort(reverse=True)  # newest first, as the API lists them
        return entries

    def reload_listing(self) -> list[dict]:
        return self._cached("reloads", self._reload_listing)

    def audit_events(self) -> list[dict]:
        return self._cached("audits", self._audit_events)

    def _cached(self, name: str, build) -> list[dict]:
        """Listings are built once per state of the estate (removed or touched apps)."""
        key = (name, frozenset(self.removed_apps), frozenset(self.touched_apps.items()))
        cache = self.__dict__.setdefault("_listings", {})
        if key not in cache:
            if len(cache) > 8:
                cache.clear()
            cache[key] = build()
        return cache[key]

    def _reload_listing(self) -> list[dict]:
        return [self.app_reloads(n)[r] for _, n, r in self._reloads if n not in self.removed_apps]

    def reload_metadata(self, n: int, reload_id: str) -> dict | None:
        for reload in self.app_reloads(n):
            if reload["id"] == reload_id:
                break
        else:
            return None
        statements = []
        for flow in self.app_flows(n):
            if flow["kind"] == "load_sql":
                connection, label, qri = flow["connection"], flow["table"], flow["connection"]["qri"]
            elif flow["kind"] in ("load_file", "store"):
                connection = self._files_connection(n)
                label, qri = flow["path"], self._file_qri(flow["path"])
            else:
                continue
            statements.append(
                {
                    "type": "Store" if flow["kind"] == "store" else "Load",
                    "connection": connection["qName"],
                    "connectionId": connection["id"],
                    "qri": qri,
                    "label": label,
                    "tableName": WORDS[n % len(WORDS)],
                    "nbrOfRows": 1000 + n,
                    "nbrOfFields": 3,
                    "dataSize": 4096,
                    "duration": 1200,
                }
            )
        return {
            "reloadId": reload_id,
            "endTime": reload["endTime"],
            "duration": 120000,
            "success": reload["status"] == "SUCCEEDED",
            "isPartialReload": False,
            "statements": statements,
            "includeFiles": [],
        }

    def _audit_events(self) -> list[dict]:
        events = []
        for n in self.app_ids():
            profile = self._app_profile(n)
            rng = random.Random(f"{self.seed}:audits:{n}")  # noqa: S311
            for e in range(min(profile["views"], 12)):  # sheet views: a sample of the opens
                events.append(
                    {
                        "id": _hex24(self.seed, "audit", n, e),
                        "eventType": SHEET_VIEW_EVENT,
                        "eventTime": _iso(
                            self.today - timedelta(days=rng.randrange(27), minutes=rng.randrange(1440))
                        ),
                        "userId": _hex24(self.seed, "user", rng.randrange(max(profile["unique"], 1))),
                        "tenantId": self.tenant_id,
                        "source": "com.qlik/analytics",
                        "data": {"appId": self.app_guid(n), "sheetId": _hex24(self.seed, "sheet", n, e % 3)},
                    }
                )
        events.sort(key=lambda event: event["eventTime"], reverse=True)
        return events


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(base64.urlsafe_b64decode(padded).decode().split(":", 1)[1])


class FakeQlikTenant:
    """Serves a FakeEstate over HTTP on 127.0.0.1; use as a context manager or start/stop."""

    def __init__(self, estate: FakeEstate | None = None, *, api_key: str = "fake-key", port: int = 0):
        self.estate = estate or FakeEstate()
        self.api_key = api_key
        self.switches = Switches()
        self.requests: Counter[str] = Counter()  # endpoint pattern -> calls
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeQlikTenant":
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-qlik")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def calls(self) -> int:
        return sum(self.requests.values())

    # --- request handling ---------------------------------------------------------------

    def _handler_class(self):
        tenant = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle and delayed ACKs
            # add 40 ms to every answer.
            disable_nagle_algorithm = True

            def log_message(self, format, *args):  # quiet: tests and benchmarks read counters
                return

            def do_GET(self):
                status, body, headers = tenant.answer(self.path, self.headers.get("Authorization", ""))
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def _limited(self) -> bool:
        """Whether this request is over a burst or the per-minute limit (and counts it)."""
        with self._lock:
            if self.switches.rate_limit_burst > 0:
                self.switches.rate_limit_burst -= 1
                return True
            limit = self.switches.requests_per_minute
            if limit:
                now = time.monotonic()
                while self._window and now - self._window[0] >= 60:
                    self._window.popleft()
                if len(self._window) >= limit:
                    return True
                self._window.append(now)
        return False

    def answer(self, raw_path: str, authorization: str) -> tuple[int, object, dict]:
        parts = urlsplit(raw_path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        switches = self.switches
        if switches.slow_seconds and (
            not switches.slow_paths or any(path.startswith(p) for p in switches.slow_paths)
        ):
            time.sleep(switches.slow_seconds)
        if authorization != f"Bearer {self.api_key}":
            self._record("401")
            return 401, _errors("HTTP-401", "Unauthorized", "Invalid API key."), {}
        if self._limited():
            self._record("429")
            headers = {"Retry-After": str(switches.retry_after)}
            return 429, _errors("HTTP-429", "API rate limit reached."), headers
        for prefix, status in switches.fail_paths.items():
            if path.startswith(prefix):
                self._record(f"{status}")
                return status, _errors(f"HTTP-{status}", "Internal error", "The fake tenant fails here."), {}
        if any(path.startswith(prefix) for prefix in switches.malformed_paths):
            self._record("malformed")
            return 200, b"<html>upstream proxy error</html>", {}
        return self._route(path, query)

    def _record(self, endpoint: str) -> None:
        with self._lock:
            self.requests[endpoint] += 1

    def _page(self, path: str, query: dict, objects, cursor_param: str = "next") -> tuple[int, dict, dict]:
        limit = min(int(query.get("limit", 20)), self.switches.page_size_cap)
        offset = _offset(query.get(cursor_param))
        total = len(objects)
        page = objects[offset : offset + limit] if isinstance(objects, list) else objects(offset, limit)
        base = self.url if self.switches.absolute_next_links else ""
        keep = urlencode({k: v for k, v in query.items() if k not in (cursor_param, "limit")})
        links = {"self": {"href": f"{base}{path}"}}
        if offset + limit < total:
            links["next"] = {
                "href": f"{base}{path}?limit={limit}&{cursor_param}={_cursor(offset + limit)}"
                + (f"&{keep}" if keep else "")
            }
        return 200, {"data": page, "links": links, "meta": {"count": total}}, {}

    def _route(self, path: str, query: dict) -> tuple[int, object, dict]:
        estate = self.estate
        segments = path.strip("/").split("/")
        if segments[:2] != ["api", "v1"] or len(segments) < 3:
            self._record("404")
            return 404, _errors("HTTP-404", "Not found"), {}
        resource, rest = segments[2], segments[3:]
        if resource == "users" and rest == ["me"]:
            self._record("users/me")
            return (
                200,
                {"id": _hex24(estate.seed, "user", 0), "name": "API user", "tenantId": estate.tenant_id},
                {},
            )
        if resource == "spaces" and not rest:
            self._record("spaces")
            return self._page(path, query, estate.spaces)
        if resource == "items" and not rest:
            self._record("items")
            ids = estate.app_ids()
            if query.get("resourceType", "app") != "app":
                ids = []
            return self._page(
                path,
                query,
                _LazyList(
                    len(ids), lambda offset, limit: [estate.app_item(n) for n in ids[offset : offset + limit]]
                ),
            )
        if resource == "data-connections":
            if rest:
                self._record("data-connections/{id}")  # the single GET carries the secret
                for n, connection in enumerate(estate.connections):
                    if connection["id"] == rest[0]:
                        return 200, {**connection, "qConnectionSecret": estate.connection_secret(n)}, {}
                return 404, _errors("HTTP-404", "Not found"), {}
            self._record("data-connections")
            return self._page(path, query, estate.connections, cursor_param="page")
        if resource == "reloads" and not rest:
            self._record("reloads")
            return self._page(path, query, estate.reload_listing())
        if resource == "audits" and not rest:
            self._record("audits")
            events = [
                e for e in estate.audit_events() if e["eventType"] == query.get("eventType", e["eventType"])
            ]
            return self._page(path, query, events)
        if resource == "lineage-graphs" and rest[:1] == ["nodes"] and len(rest) == 2:
            self._record("lineage-graphs/nodes/{qri}")
            n = estate.app_index(unquote(rest[1]).rsplit("/", 1)[-1])
            if not self.switches.lineage_api or n is None:
                return 404, _errors("HTTP-404", "Lineage not found"), {}
            return 200, {"graph": estate.lineage_graph(n)}, {}
        if resource == "apps" and rest:
            n = estate.app_index(rest[0])
            if n is None:
                self._record("apps/{id}")
                return 404, _errors("HTTP-404", "App not found"), {}
            if len(rest) == 1:
                self._record("apps/{id}")
                return 200, estate.app_attributes(n), {}
            if rest[1:] == ["scripts", "current"]:
                self._record("apps/{id}/scripts/current")
                return 200, {"script": estate.app_script(n), "versionMessage": ""}, {}
            if rest[1:3] == ["reloads", "metadata"] and len(rest) == 4:
                self._record("apps/{id}/reloads/metadata/{id}")
                metadata = estate.reload_metadata(n, rest[3])
                if metadata is None:
                    return 404, _errors("HTTP-404", "Reload not found"), {}
                return 200, metadata, {}
        self._record("404")
        return 404, _errors("HTTP-404", "Not found"), {}


class _LazyList:
    """A sized sequence whose slices are generated on demand (10,000 apps are never all built)."""

    def __init__(self, length: int, slice_of):
        self._length, self._slice_of = length, slice_of

    def __len__(self) -> int:
        return self._length

    def __call__(self, offset: int, limit: int) -> list:
        return self._slice_of(offset, limit)


def _errors(code: str, title: str, detail: str = "") -> dict:
    return {"errors": [{"code": code, "title": title, **({"detail": detail} if detail else {})}]}
