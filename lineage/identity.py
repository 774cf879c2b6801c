"""Node ids of the lineage graph: one id per thing, however a source spells it.

    app:<app GUID, lower case>                 from a GUID, a 24-hex item id or qri:app:sense://<GUID>
    connection:<connection name, lower case>   as in LIB CONNECT TO and lib://<name>/ (a space
                                               prefix "Space:Name" is part of the name)
    file:lib://<connection>/<path>             lower case, forward slashes, no quotes or brackets
    table:<connection>/<catalog.schema.table>  lower case, empty parts left out
    qri:<QRI>                                  a lineage-API node that is none of the above
    unresolved:<app GUID>:<line>:<hash>        a reference the script parser could not resolve

Ids depend only on what they name, so they are stable across syncs and sources.
"""

import hashlib
import re

from lineage.script_parser import lib_path_connection, normalize_lib_path

APP_QRI = re.compile(r"(?i)^qri:app:sense://([0-9a-f-]{36})$")
GUID = re.compile(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ITEM_ID = re.compile(r"(?i)^[0-9a-f]{24}$")


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
    return f"app:{guid.lower()}"


def connection_node_id(name: str) -> str:
    return f"connection:{name.strip().lower()}"


def file_node_id(path: str) -> str:
    """The node of a lib:// path, or "" when the path is not under a connection."""
    normalized = normalize_lib_path(path)
    return f"file:{normalized}" if normalized else ""


def file_connection_node_id(path: str) -> str:
    connection = lib_path_connection(path)
    return connection_node_id(connection) if connection else ""


def table_node_id(connection: str, table: tuple[str, str, str] | str) -> str:
    parts = table if isinstance(table, tuple) else tuple(table.split("."))
    qualified = ".".join(part.strip().strip('"[]`').lower() for part in parts if part and part.strip())
    return f"table:{connection.strip().lower()}/{qualified}"


def qri_node_id(qri: str) -> str:
    return f"qri:{qri}"


def unresolved_node_id(app_guid: str, line: int, statement: str) -> str:
    digest = hashlib.sha1(statement.encode(), usedforsecurity=False).hexdigest()[:10]
    return f"unresolved:{app_guid}:{line}:{digest}"
