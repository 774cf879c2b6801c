"""Node ids of the lineage graph: one id per thing, however a source spells it.

    app:<app GUID, lower case>                 from a GUID, a 24-hex item id or qri:app:sense://<GUID>
    connection:<space name>:<connection name>  a listed data connection in a space (lower case;
                                               the space id when its name is unknown)
    connection:<connection name>               a listed connection outside any space, or a name
                                               no listed connection answers to (as written)
    file:lib://<connection>/<path>             lower case, forward slashes, no quotes or brackets;
                                               a data file of a space is lib://<space>:datafiles/<name>,
                                               of a personal space lib://datafiles/<name>
    table:<connection>/<catalog.schema.table>  lower case, empty parts left out; <connection> as
                                               in the connection's id
    qri:<QRI>                                  a lineage-API node that is none of the above
                                               (a QRI already starting with "qri:" is kept as is)
    unresolved:<app GUID>:<line>:<hash>        a reference the script parser could not resolve

A connection name as scripts write it (`LIB CONNECT TO 'Space:Name'`, `lib://Space:Name/`)
is resolved by `ConnectionNames` to the listed connection's node: by the space's name, or
else by the part after the colon when one listed connection alone has that name.

Ids depend only on what they name, so they are stable across syncs and sources. An id
longer than MAX_ID_BYTES (UTF-8) becomes its first ID_PREFIX_BYTES and a SHA-256 of the
whole id, so any path a tenant can produce is storable and indexable; the full text stays
in the node's label and data.
"""

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lineage.script_parser import lib_path_connection, normalize_lib_path, sql_dialect

APP_QRI = re.compile(r"(?i)^qri:app:sense://([0-9a-f-]{36})$")
GUID = re.compile(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ITEM_ID = re.compile(r"(?i)^[0-9a-f]{24}$")
# An edge id is "<source>-><target>": two bounded ids stay far below the btree limit
# (~2,700 bytes) and the columns' lengths (node 500, edge 1,100 characters).
MAX_ID_BYTES = 400
ID_PREFIX_BYTES = 300
DATA_FILES = "DataFiles"


def bounded(node_id: str) -> str:
    """`node_id`, or when it is too long, a readable prefix of it and its SHA-256."""
    raw = node_id.encode()
    if len(raw) <= MAX_ID_BYTES:
        return node_id
    prefix = raw[:ID_PREFIX_BYTES].decode(errors="ignore")  # not half a character
    return f"{prefix}~{hashlib.sha256(raw).hexdigest()}"


def app_guid(reference: str, *, item_ids: dict[str, str] | None = None) -> str | None:
    """The app GUID behind a GUID, an item id (through `item_ids`) or an app QRI."""
    reference = (reference or "").strip()
    if match := APP_QRI.match(reference):
        return match.group(1).lower()
    if GUID.match(reference):
        return reference.lower()
    if ITEM_ID.match(reference) and item_ids:
        return item_ids.get(reference.lower())
    return None


def app_node_id(guid: str) -> str:
    return bounded(f"app:{guid.lower()}")


def connection_node_id(name: str) -> str:
    return bounded(f"connection:{name.strip().lower()}")


def file_node_id(path: str) -> str:
    """The node of a lib:// path, or "" when the path is not under a connection."""
    normalized = normalize_lib_path(path)
    return bounded(f"file:{normalized}") if normalized else ""


def table_node_id(connection: str, table: tuple[str, str, str] | str) -> str:
    parts = table if isinstance(table, tuple) else tuple(table.split("."))
    qualified = ".".join(part.strip().strip('"[]`').lower() for part in parts if part and part.strip())
    return bounded(f"table:{connection.strip().lower()}/{qualified}")


def qri_node_id(qri: str) -> str:
    return bounded(qri if qri.lower().startswith("qri:") else f"qri:{qri}")


def unresolved_node_id(app_guid: str, line: int, statement: str) -> str:
    digest = hashlib.sha1(statement.encode(), usedforsecurity=False).hexdigest()[:10]
    return bounded(f"unresolved:{app_guid}:{line}:{digest}")


def data_file_path(file_name: str, *, space: str = "") -> str:
    """The lib:// path by which scripts read and write a data file of `space` (its name, or
    its id when the name is unknown) or, without a space, of a personal space."""
    name = file_name.strip().replace("\\", "/").lstrip("/")
    return f"lib://{space}:{DATA_FILES}/{name}" if space else f"lib://{DATA_FILES}/{name}"


@dataclass(frozen=True)
class Connection:
    """A connection as the graph knows it: its node, the name its tables are keyed by
    (lower case) and, when listed, what the listing says."""

    node_id: str
    key: str
    label: str
    listed: bool = False
    connection_id: str = ""
    connection_type: str = ""
    space_id: str = ""
    space_name: str = ""
    qri: str = ""

    @property
    def dialect(self) -> str | None:
        return sql_dialect(self.connection_type)


class ConnectionNames:
    """Which connection a name written by a script or by reload metadata stands for.

    `connections`: data-connection objects (id, qName, qType, datasourceID, space);
    `spaces`: space id → space name. A name resolves, in this order, to the listed
    connection whose `<space name>:<name>` (or plain name, outside spaces) it is; to the
    one listed connection called like the part after the colon (or like the whole name,
    without a colon); otherwise to a connection of its own, named as written.
    """

    def __init__(self, connections: Iterable[Mapping] = (), spaces: Mapping[str, str] | None = None):
        self.spaces = dict(spaces or {})
        self.listed: list[Connection] = []
        self._by_key: dict[str, Connection] = {}
        self._by_name: dict[str, list[Connection]] = {}
        self._by_id: dict[str, Connection] = {}
        for item in connections:
            name = str(item.get("qName") or "").strip()
            if not name:
                continue
            space_id = str(item.get("space") or "")
            space_name = self.spaces.get(space_id, "") if space_id else ""
            key = f"{space_name or space_id}:{name}".lower() if space_id else name.lower()
            kind = str(item.get("qType") or "")
            if not sql_dialect(kind):  # e.g. a generic ODBC package: its data source may say
                kind = str(item.get("datasourceID") or kind)
            connection = Connection(
                node_id=connection_node_id(key),
                key=key,
                label=name,
                listed=True,
                connection_id=str(item.get("id") or ""),
                connection_type=kind,
                space_id=space_id,
                space_name=space_name,
                qri=str(item.get("qri") or ""),
            )
            self.listed.append(connection)
            self._by_key.setdefault(key, connection)
            self._by_name.setdefault(name.lower(), []).append(connection)
            if connection.connection_id:
                self._by_id[connection.connection_id.lower()] = connection

    def resolve(self, name: str, *, connection_id: str = "") -> Connection:
        """The connection `name` (or, first, `connection_id`) stands for."""
        if connection_id and (known := self._by_id.get(connection_id.lower())):
            return known
        key = name.strip().lower()
        if known := self._by_key.get(key):
            return known
        candidates = self._by_name.get(key.split(":", 1)[-1].strip(), [])
        if len(candidates) == 1:
            return candidates[0]
        return Connection(node_id=connection_node_id(key), key=key, label=name.strip())

    def of_path(self, path: str) -> Connection | None:
        """The connection a lib:// path goes through, or None for a path not under one."""
        name = lib_path_connection(path)
        return self.resolve(name) if name else None

    def dialect(self, name: str) -> str | None:
        """The SQL dialect of the connection `name` stands for (None when unknown)."""
        return self.resolve(name).dialect
