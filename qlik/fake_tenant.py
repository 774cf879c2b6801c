"""A fake Qlik Cloud tenant: a real HTTP server speaking the REST API the sync uses.

Deterministic from a seed and a size: spaces, users, apps (items whose resourceAttributes
and GET /apps/{id} agree), data connections, load scripts with LOAD / STORE / SQL
statements, reloads with their metadata, Qlik's lineage graphs, datasets, item views and
audit sheet-view events, so tests, the demo and the benchmark see the same estate every
time. Estates of 10,000 apps stay lazy: objects are built per page asked for.

Apps come in chains Extract → Model → Dashboard / Report. The QVDs they store live in
the DataFiles of the storing app's space, spelled `lib://<Space name>:DataFiles/<folder>/<file>`
(personal space: `lib://DataFiles/...`), and each is a dataset in /items (`qix-df`) whose
`secureQri` is the QRI the lineage API and reload metadata name it by; /items also lists
orphan data files no script mentions and a few connection-based datasets.

`Switches`, settable while it runs, reproduce what real tenants do: 429 bursts with
`Retry-After` in seconds or as an HTTP date, a rate limit per minute, permanent 5xx, slow
answers, malformed bodies, vanished and changed apps, per-app 403 on scripts, reload
metadata that is not kept (404) or comes wrapped in `data`, apps listed but gone, spaces
without `links`, missing or empty `itemViews`, connections without `id`, lineage off.
`Switches.like_a_real_tenant()` turns the realistic ones on together (the command's `--real`).
It accepts one or several API keys, counts requests per endpoint (`requests`) and logs
every accepted one with its time and key (`request_log`, `max_requests_in_window`).
"""

import base64
import hashlib
import json
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

SHEET_VIEW_EVENT = "com.qlik.v1.analytics.analytics-app-client.sheet-view.opened"
CONNECTION_KINDS = ("snowflake", "postgres", "sqlserver", "folder", "sharepoint", "rest")
WORDS = (
    "Sales", "Finance", "Stock", "Orders", "Budget", "Churn", "Margin", "Supply", "Payroll",
    "Forecast", "Leads", "Returns", "Pricing", "Claims", "Traffic", "Quality",
)  # fmt: skip
# What /items' resourceAttributes and GET /apps/{id}'s attributes carry of an app.
ITEM_ATTRIBUTES = (
    "id", "name", "description", "ownerId", "owner", "spaceId", "published", "publishTime",
    "lastReloadTime", "hasSectionAccess", "isDirectQueryMode", "usage", "createdDate", "modifiedDate",
    "originAppId", "fileName", "thumbnail",
)  # fmt: skip
APP_ATTRIBUTES = (
    "id", "name", "description", "ownerId", "owner", "createdDate", "modifiedDate", "lastReloadTime",
    "publishTime", "published", "originAppId", "hasSectionAccess", "encrypted", "isDirectQueryMode",
    "usage", "custom", "fileName", "thumbnail",
)  # fmt: skip
DATA_FILE_TYPES = {"qvd": "QVD", "csv": "DELIMETED", "xlsx": "EXCEL_OOXML"}  # (sic: Qlik's spelling)
USER_COUNT = 20  # owners are users 0..19
FIRST_NAMES = (
    "Ada", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Kemal", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tamara",
)  # fmt: skip
LAST_NAMES = ("Lovelace", "Okafor", "Rossi", "Ivanov", "Garcia", "Haddad", "Berg")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _guid(seed: int, *parts) -> str:
    return str(uuid.UUID(hashlib.md5(f"{seed}/{'/'.join(map(str, parts))}".encode()).hexdigest()))  # noqa: S324


def _hash43(seed: int, *parts) -> str:
    """A 43-character URL-safe hash, as in Qlik's secure QRIs."""
    digest = hashlib.sha256(f"{seed}/{'/'.join(map(str, parts))}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _hex24(seed: int, *parts) -> str:
    return hashlib.sha1(f"{seed}/{'/'.join(map(str, parts))}".encode()).hexdigest()[:24]  # noqa: S324


@dataclass
class Switches:
    """Misbehaviours, changeable while the server runs."""

    rate_limit_burst: int = 0  # the next N requests answer 429
    retry_after: int = 1  # seconds, in the 429's Retry-After
    requests_per_minute: int = 0  # 0: unlimited; else a sliding-window limit (Tier 1: 1000)
    # path prefix -> HTTP status; a prefix ending in "$" matches that path exactly
    fail_paths: dict[str, int] = field(default_factory=dict)
    malformed_paths: set[str] = field(default_factory=set)  # path prefix -> non-JSON body
    slow_seconds: float = 0.0  # delay before each answer
    slow_paths: set[str] = field(default_factory=set)  # only these prefixes (empty: all)
    absolute_next_links: bool = False  # next.href as a full URL instead of a path
    page_size_cap: int = 100  # the server's own maximum page size
    lineage_api: bool = True  # False: /lineage-graphs answers 404, as on tenants with it off
    # Per-app failures: "every k-th app" is app index n with (n + 1) % k == 0 (0: none).
    forbidden_scripts_every: int = 0  # those apps' /apps/{id}/scripts[/current] answer 403
    missing_reload_metadata_every: int = 0  # those apps' /reloads/metadata/{id} answer 404
    reload_metadata_api: bool = True  # False: /apps/{id}/reloads/metadata/{id} answers 404 for all
    wrapped_reload_metadata: bool = False  # reload metadata as {"data": [<metadata>]}
    ghost_apps: int = 0  # extra app items in /items whose /apps/{id}... and lineage answer 404
    spaces_without_links: bool = False  # /spaces: every space in one page, no `links` key
    missing_item_views_every: int = 0  # k-th app items lack itemViews, (k-th + 1) have {}
    retry_after_http_date: bool = False  # 429's Retry-After as an HTTP date, not seconds
    connections_without_id: bool = False  # /data-connections objects carry qID but no id

    @classmethod
    def like_a_real_tenant(cls, **overrides) -> "Switches":
        """The failures a real tenant shows a sync, at realistic rates (for the demo and tests)."""
        values = {
            "forbidden_scripts_every": 10,
            "missing_reload_metadata_every": 7,
            "ghost_apps": 1,
            "spaces_without_links": True,
            "missing_item_views_every": 9,
            "retry_after_http_date": True,
        }
        return cls(**{**values, **overrides})

    @staticmethod
    def every(k: int, n: int) -> bool:
        """Whether app index n is one of "every k-th app" (the k-th, 2k-th ... counting from 1)."""
        return k > 0 and (n + 1) % k == 0


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
        profile, attributes = self._app_profile(n), self._app_attributes(n)
        weeks = [
            {
                "start": _iso(self.today - timedelta(days=7 * (w + 1))),
                "total": profile["views"] // 4,
                "unique": 1,
            }
            for w in range(4)
        ]
        last = self.app_reloads(n)[:1]
        return {
            "id": _hex24(self.seed, "item", n),
            "name": attributes["name"],
            "description": attributes["description"],
            "resourceId": attributes["id"],
            "resourceType": "app",
            "resourceSubType": "",
            "spaceId": attributes["spaceId"],
            "ownerId": attributes["ownerId"],
            "creatorId": attributes["ownerId"],
            "updaterId": attributes["ownerId"],
            "tenantId": self.tenant_id,
            "createdAt": attributes["createdDate"],
            "updatedAt": attributes["modifiedDate"],
            "resourceCreatedAt": attributes["createdDate"],
            "resourceUpdatedAt": attributes["modifiedDate"],
            "resourceReloadEndTime": attributes["lastReloadTime"],
            "resourceReloadStatus": ("failed" if last[0]["status"] == "FAILED" else "ok") if last else "",
            "resourceSize": {"appFile": 1000 + n, "appMemory": 5000 + n},
            "resourceAttributes": {key: attributes[key] for key in ITEM_ATTRIBUTES},
            "meta": {"tags": [], "collections": [], "actions": ["read"]},
            "itemViews": {
                "total": profile["views"],
                "unique": profile["unique"],
                "trend": 0.0,
                "usedBy": profile["unique"],
                "week": weeks,
            },
        }

    def _app_attributes(self, n: int) -> dict:
        """App n's attributes: what /items' resourceAttributes and /apps/{id} both say."""
        profile, guid = self._app_profile(n), self.app_guid(n)
        name = f"{WORDS[(n // 4) % len(WORDS)]} {('Extract', 'Model', 'Dashboard', 'Report')[n % 4]} {n}"
        reloads = self.app_reloads(n)
        created = self.today - timedelta(days=500)
        updated = self.touched_apps.get(n, self.today - timedelta(days=profile["updated_days"]))
        space = None if profile["personal"] else self.spaces[profile["space"]]
        published = bool(space) and space["type"] == "managed"  # only managed spaces hold published apps
        owner = n % 20
        return {
            "id": guid,
            "name": name,
            "description": f"{name}, generated by the fake tenant",
            "ownerId": _hex24(self.seed, "user", owner),
            "owner": self.user(owner)["name"],
            "spaceId": space["id"] if space else None,
            "published": published,
            "publishTime": _iso(created + timedelta(days=30 + n % 30)) if published else None,
            "lastReloadTime": reloads[0]["endTime"] if reloads else None,
            "hasSectionAccess": n % 23 == 5,
            "encrypted": True,
            "isDirectQueryMode": False,
            "usage": "ANALYTICS",
            "createdDate": _iso(created),
            "modifiedDate": _iso(updated),
            "originAppId": _guid(self.seed, "origin", n) if published else "",
            "fileName": f"{guid}.qvf",
            "thumbnail": "",
            "custom": {},
        }

    def app_attributes(self, n: int) -> dict:
        """The body of GET /apps/{id}."""
        attributes = self._app_attributes(n)
        return {"attributes": {key: attributes[key] for key in APP_ATTRIBUTES}, "privileges": ["read"]}

    # --- users --------------------------------------------------------------------------

    def user(self, u: int) -> dict:
        """One of the 20 users the estate's objects name as owners (ids _hex24(seed, "user", u))."""
        first, last = FIRST_NAMES[u % len(FIRST_NAMES)], LAST_NAMES[u % len(LAST_NAMES)]
        return {
            "id": _hex24(self.seed, "user", u),
            "tenantId": self.tenant_id,
            "subject": f"auth0|{_hex24(self.seed, 'subject', u)}",
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower()}@example.com",
            "status": "disabled" if u == 19 else "active",
            "createdAt": _iso(self.today - timedelta(days=600 - u)),
            "lastUpdatedAt": _iso(self.today - timedelta(days=u)),
        }

    def users(self) -> list[dict]:
        return [self.user(u) for u in range(USER_COUNT)]

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
        The QVDs live in the DataFiles of the storing app's space (a dataset there); file
        flows carry the path, the QRI Qlik names the file by and the connection read through.
        """
        role, base = n % 4, n - n % 4
        sql = self.connections[self._app_profile(n)["connections"][0]]
        folder = self._files_connection(n)
        table = WORDS[n % len(WORDS)]
        flows: list[dict] = []
        if role == 0:
            flows.append({"kind": "load_sql", "connection": sql, "table": f"dwh.{table.lower()}_{n % 7}"})
            flows.append({"kind": "load_sql", "connection": sql, "table": "dwh.calendar"})
            flows.append({"kind": "store", **self._stored_file(n)})
        elif role == 1:
            source = self._stored_file(base)
            flows.append({"kind": "load_file", **source, "spelling": f"[{source['path'].lower()[:-3]}QVD]"})
            flows.append({"kind": "store", **self._stored_file(n)})
        elif role == 2 and base + 1 < self.app_count:
            path = f"lib://{folder['qName']}/Targets.xlsx"
            flows.append({"kind": "binary", "app": self.app_guid(base + 1)})
            flows.append(
                {
                    "kind": "load_file",
                    "path": path,
                    "qri": self._file_qri(path),
                    "via": (folder["qName"], folder["id"]),
                }
            )
        elif role == 3 and base + 1 < self.app_count:
            source = self._stored_file(base + 1)
            flows.append(
                {"kind": "load_file", **source, "spelling": f"[{source['path'].replace('/', chr(92))}]"}
            )
        return flows

    # --- data files and datasets ----------------------------------------------------------

    def _stored_file(self, m: int) -> dict:
        """The QVD app m (an Extract or a Model) stores, in the DataFiles of its own space."""
        profile = self._app_profile(m)
        space = None if profile["personal"] else self.spaces[profile["space"]]
        folder = ("Extract", "Model")[m % 4]
        return self._data_file(space, m % 20, f"{folder}/{WORDS[m % len(WORDS)]}_{m}.qvd")

    def _data_file(self, space: dict | None, owner: int, name: str) -> dict:
        """A file in a space's DataFiles (or in its owner's personal space when space is None).

        Scripts spell it `lib://<Space name>:DataFiles/<name>` (personal: `lib://DataFiles/<name>`);
        its dataset's qri is `qdf:qix-datafiles:<tenant>:sid@<space id>:<name>` (personal:
        `uid@<user id>`) and its secureQri, which the lineage API names it by, is
        `qri:qdf:space://<hash>#<hash>` (personal: `qri:qdf:user://...`).
        """
        if space:
            scope, where, via = space["id"], f"sid@{space['id']}", f"{space['name']}:DataFiles"
            secure = f"qri:qdf:space://{_hash43(self.seed, 'space', scope)}"
        else:
            scope = _hex24(self.seed, "user", owner)
            where, via = f"uid@{scope}", "DataFiles"
            secure = f"qri:qdf:user://{_hash43(self.seed, 'user', scope)}"
        return {
            "path": f"lib://{via}/{name}",
            "name": name,
            "space": space,
            "owner": owner,
            "via": (via, _guid(self.seed, "datafiles", scope)),
            "qri": f"{secure}#{_hash43(self.seed, 'datafile', scope, name.lower())}",
            "plain_qri": f"qdf:qix-datafiles:{self.tenant_id}:{where}:{name}",
        }

    @property
    def _stored_count(self) -> int:
        """Datasets the apps store: one per Extract and Model (apps 4c and 4c + 1)."""
        return 2 * (self.app_count // 4) + min(self.app_count % 4, 2)

    @property
    def _orphan_count(self) -> int:
        return max(3, self.app_count // 25)

    def _connection_datasets(self) -> list[int]:
        """The connections with a connection-based dataset: the first three database ones."""
        kinds = ("snowflake", "postgres", "sqlserver")
        return [c for c, conn in enumerate(self.connections) if conn["datasourceID"] in kinds][:3]

    @property
    def dataset_count(self) -> int:
        return self._stored_count + self._orphan_count + len(self._connection_datasets())

    def dataset_item(self, d: int) -> dict:
        """Dataset d of /items?resourceType=dataset, built on demand.

        First the QVDs the apps store (d = 2c: Extract 4c's, d = 2c + 1: Model 4c + 1's), then
        orphans no script mentions (uploads: QVD, CSV, XLSX), then connection-based datasets.
        """
        if d < self._stored_count:
            m = 4 * (d // 2) + d % 2
            reloads = self.app_reloads(m)
            updated = self.today - timedelta(days=600) if not reloads else _parse(reloads[0]["endTime"])
            return self._file_item(self._stored_file(m), size=(1000 + m) * 64, updated=updated)
        o = d - self._stored_count
        if o < self._orphan_count:
            extension = ("qvd", "csv", "xlsx")[o % 3]
            space = self.spaces[o % self.space_count]
            name = f"Uploads/{WORDS[(o * 5) % len(WORDS)]}_{o}.{extension}"
            updated = self.today - timedelta(days=100 + o % 200)
            return self._file_item(self._data_file(space, o % 20, name), size=2048 + 512 * o, updated=updated)
        c = self._connection_datasets()[o - self._orphan_count]
        return self._connection_item(c)

    def _dataset_base(self, key: str, name: str, space_id, owner: int, created, updated) -> dict:
        owner_id = _hex24(self.seed, "user", owner)
        return {
            "id": _hex24(self.seed, "dataset-item", key),
            "name": name,
            "description": "",
            "resourceId": _hex24(self.seed, "dataset", key),
            "resourceType": "dataset",
            "spaceId": space_id,
            "ownerId": owner_id,
            "creatorId": owner_id,
            "updaterId": owner_id,
            "tenantId": self.tenant_id,
            "createdAt": _iso(created),
            "updatedAt": _iso(updated),
            "resourceCreatedAt": _iso(created),
            "resourceUpdatedAt": _iso(updated),
            "resourceReloadEndTime": "",
            "resourceReloadStatus": "",
            "resourceSize": {"appFile": 0, "appMemory": 0},
            "resourceCustomAttributes": None,
            "meta": {"tags": [], "collections": [], "actions": ["read"]},
            "itemViews": {},
        }

    def _file_item(self, file: dict, *, size: int, updated: datetime) -> dict:
        created = min(updated, self.today - timedelta(days=400))
        space = file["space"]
        item = self._dataset_base(
            file["plain_qri"], file["name"], space["id"] if space else None, file["owner"], created, updated
        )
        item["resourceSubType"] = "qix-df"
        item["resourceAttributes"] = {
            "appType": "QIX-DF",  # as real tenants answer; the format is in `type`
            "dataStoreName": "DataFilesStore",
            "dataStoreType": "qix-datafiles",
            "qri": file["plain_qri"],
            "secureQri": file["qri"],
            "sourceSystemId": f"QIX-DF_{_guid(self.seed, 'datafile', file['plain_qri'])}",
            "technicalDescription": "",
            "technicalName": file["name"],
            "type": DATA_FILE_TYPES[file["name"].rsplit(".", 1)[-1].lower()],
            "size": size,
            "version": "2",
        }
        return item

    def _connection_item(self, c: int) -> dict:
        connection = self.connections[c]
        kind, table = connection["datasourceID"], f"dwh.{WORDS[c % len(WORDS)].lower()}_{c % 7}"
        created = self.today - timedelta(days=200 + c)
        item = self._dataset_base(
            f"{connection['id']}/{table}", table.split(".")[-1], connection["space"], c % 20, created, created
        )
        item["resourceSubType"] = "connection_based_dataset"
        item["resourceAttributes"] = {
            "appType": "CONNECTION_BASED_DATASET",
            "dataStoreName": f"{kind}{connection['qri']}",
            "dataStoreType": kind,
            "qri": _guid(self.seed, "connection-dataset", c),
            "secureQri": f"{connection['qri']}#{_hash43(self.seed, 'table', c, table)}",
            "sourceSystemId": "",
            "technicalDescription": "",
            "technicalName": table.replace(".", "'.'"),
            "type": "CONNECTION_BASED_DATASET",
            "version": "2",
        }
        return item

    def app_script_versions(self, n: int) -> dict:
        """The body of GET /apps/{id}/scripts: the script's version list."""
        modified = self._app_attributes(n)["modifiedDate"]
        return {
            "scripts": [
                {
                    "scriptId": _hex24(self.seed, "script", n),
                    "modifiedTime": modified,
                    "modifierId": _hex24(self.seed, "user", n % 20),
                    "size": len(self.app_script(n)),
                    "versionMessage": "",
                }
            ]
        }

    def ghost_item(self, g: int) -> dict:
        """An app item listed by /items whose app is gone: every /apps/{id}... answers 404."""
        item = self.app_item(g % self.app_count) if self.app_count else {}
        guid = _guid(self.seed, "ghost", g)
        name = f"Deleted App {g}"
        return {
            **item,
            "id": _hex24(self.seed, "ghost-item", g),
            "name": name,
            "description": "",
            "resourceId": guid,
            "resourceReloadEndTime": None,
            "resourceReloadStatus": "",
            "resourceAttributes": {
                **item.get("resourceAttributes", {}),
                "id": guid,
                "name": name,
                "description": "",
                "lastReloadTime": None,
                "published": False,
                "publishTime": None,
                "originAppId": "",
                "fileName": f"{guid}.qvf",
            },
            "itemViews": {"total": 0, "unique": 0, "trend": 0.0, "usedBy": 0, "week": []},
        }

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
                qri, label, kind = flow["qri"], flow["path"], "DATASET"
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
        """The metadata of app n's reload `reload_id`: kept for the app's newest reload only."""
        reloads = self.app_reloads(n)
        if not reloads or reloads[0]["id"] != reload_id:
            return None
        reload = reloads[0]
        statements = []
        for flow in self.app_flows(n):
            if flow["kind"] == "load_sql":
                connection, label, qri = flow["connection"], flow["table"], flow["connection"]["qri"]
            elif flow["kind"] in ("load_file", "store"):
                connection = dict(zip(("qName", "id"), flow["via"], strict=True))
                label, qri = flow["path"], flow["qri"]
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

    def __init__(
        self,
        estate: FakeEstate | None = None,
        *,
        api_key: str = "fake-key",
        api_keys: Iterable[str] | None = None,
        port: int = 0,
    ):
        self.estate = estate or FakeEstate()
        self.api_keys: tuple[str, ...] = tuple(api_keys) if api_keys else (api_key,)
        self.switches = Switches()
        self.requests: Counter[str] = Counter()  # endpoint pattern -> calls
        # Every accepted request (past the key check and the rate limit), in arrival order:
        # (time.monotonic(), endpoint pattern, API key).
        self.request_log: list[tuple[float, str, str]] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._window: deque[float] = deque()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeQlikTenant":
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-qlik")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None or self._serving:
            self._server.shutdown()  # waits for serve_forever to return: only when it runs
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def serve_forever(self) -> None:
        self._serving = True
        self._server.serve_forever()

    @property
    def api_key(self) -> str:
        """The first accepted key; setting it makes it the only one (a rotated key)."""
        return self.api_keys[0]

    @api_key.setter
    def api_key(self, value: str) -> None:
        self.api_keys = (value,)

    def calls(self) -> int:
        return sum(self.requests.values())

    def max_requests_in_window(self, seconds: float, api_key: str | None = None) -> int:
        """The most accepted requests (of one key, or of all) within any `seconds`-long window."""
        with self._lock:
            times = [t for t, _, key in self.request_log if api_key is None or key == api_key]
        best, start = 0, 0
        for end, moment in enumerate(times):  # already in arrival order
            while moment - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

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
        self._local.key = None
        parts = urlsplit(raw_path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        switches = self.switches
        if switches.slow_seconds and (
            not switches.slow_paths or any(path.startswith(p) for p in switches.slow_paths)
        ):
            time.sleep(switches.slow_seconds)
        key = authorization.removeprefix("Bearer ")
        if not authorization.startswith("Bearer ") or key not in self.api_keys:
            self._record("401")
            return 401, _errors("HTTP-401", "Unauthorized", "Invalid API key."), {}
        if self._limited():
            self._record("429")
            retry_after = str(switches.retry_after)
            if switches.retry_after_http_date:
                retry_after = format_datetime(
                    datetime.now(UTC) + timedelta(seconds=switches.retry_after), usegmt=True
                )
            return 429, _errors("HTTP-429", "API rate limit reached."), {"Retry-After": retry_after}
        self._local.key = key  # from here on the request is accepted: _record logs it
        for prefix, status in switches.fail_paths.items():
            if path == prefix[:-1] if prefix.endswith("$") else path.startswith(prefix):
                self._record(f"{status}")
                return status, _errors(f"HTTP-{status}", "Internal error", "The fake tenant fails here."), {}
        if any(path.startswith(prefix) for prefix in switches.malformed_paths):
            self._record("malformed")
            return 200, b"<html>upstream proxy error</html>", {}
        return self._route(path, query)

    def _record(self, endpoint: str) -> None:
        key = getattr(self._local, "key", None)
        self._local.key = None
        with self._lock:
            self.requests[endpoint] += 1
            if key is not None:
                self.request_log.append((time.monotonic(), endpoint, key))

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
        estate, switches = self.estate, self.switches
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
        if resource == "users" and not rest:
            self._record("users")
            return self._page(path, query, estate.users())
        if resource == "spaces" and not rest:
            self._record("spaces")
            if switches.spaces_without_links:
                return 200, {"data": estate.spaces, "meta": {"count": len(estate.spaces)}}, {}
            return self._page(path, query, estate.spaces)
        if resource == "items" and not rest:
            self._record("items")
            return self._page(path, query, self._items(query.get("resourceType")))
        if resource == "data-connections":
            if rest:
                self._record("data-connections/{id}")  # the single GET carries the secret
                for n, connection in enumerate(estate.connections):
                    if rest[0] in (connection.get("id"), connection.get("qID")):
                        body = {**connection, "qConnectionSecret": estate.connection_secret(n)}
                        if switches.connections_without_id:
                            body.pop("id", None)
                        return 200, body, {}
                return 404, _errors("HTTP-404", "Not found"), {}
            self._record("data-connections")
            connections = estate.connections
            if switches.connections_without_id:
                connections = [{k: v for k, v in c.items() if k != "id"} for c in connections]
            return self._page(path, query, connections, cursor_param="page")
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
            if not switches.lineage_api or n is None:
                return 404, _errors("HTTP-404", "Lineage not found"), {}
            return 200, {"graph": estate.lineage_graph(n)}, {}
        if resource == "apps" and rest:
            return self._app_route(estate.app_index(rest[0]), rest[1:])
        self._record("404")
        return 404, _errors("HTTP-404", "Not found"), {}

    def _app_route(self, n: int | None, rest: list[str]) -> tuple[int, object, dict]:
        """/apps/{id}/...: `rest` is what follows the id; n is None for an unknown (or ghost) app."""
        switches = self.switches
        if n is None:  # every call about an unknown, deleted or ghost app counts as "apps/{id}"
            self._record("apps/{id}")
            return 404, _errors("HTTP-404", "App not found"), {}
        if not rest:
            self._record("apps/{id}")
            return 200, self.estate.app_attributes(n), {}
        if rest in (["scripts"], ["scripts", "current"]):
            self._record("apps/{id}/" + "/".join(rest))
            if switches.every(switches.forbidden_scripts_every, n):
                detail = "The user may list this app but not read its load script."
                return 403, _errors("HTTP-403", "Forbidden", detail), {}
            if rest == ["scripts"]:
                return 200, self.estate.app_script_versions(n), {}
            return 200, {"script": self.estate.app_script(n), "versionMessage": ""}, {}
        if rest[:2] == ["reloads", "metadata"] and len(rest) == 3:
            self._record("apps/{id}/reloads/metadata/{id}")
            metadata = self.estate.reload_metadata(n, rest[2])
            if (
                metadata is None
                or not switches.reload_metadata_api
                or switches.every(switches.missing_reload_metadata_every, n)
            ):
                return 404, _errors("HTTP-404", "Not found", "Reload metadata not found."), {}
            return 200, {"data": [metadata]} if switches.wrapped_reload_metadata else metadata, {}
        self._record("404")
        return 404, _errors("HTTP-404", "Not found"), {}

    def _items(self, resource_type: str | None) -> "_LazyList":
        """/items: apps (and ghosts) then datasets, each built only when its page is asked for."""
        estate, switches = self.estate, self.switches
        ids = estate.app_ids() if resource_type in (None, "", "app") else []
        ghosts = switches.ghost_apps if resource_type in (None, "", "app") else 0
        datasets = estate.dataset_count if resource_type in (None, "", "dataset") else 0
        apps = len(ids) + ghosts

        def item(i: int) -> dict:
            if i < len(ids):
                n = ids[i]
                item = estate.app_item(n)
                if switches.every(switches.missing_item_views_every, n):
                    del item["itemViews"]
                elif switches.missing_item_views_every and n and n % switches.missing_item_views_every == 0:
                    item["itemViews"] = {}
                return item
            if i < apps:
                return estate.ghost_item(i - len(ids))
            return estate.dataset_item(i - apps)

        total = apps + datasets
        return _LazyList(
            total, lambda offset, limit: [item(i) for i in range(offset, min(offset + limit, total))]
        )


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
