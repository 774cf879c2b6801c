"""Reads a Qlik load script and lists what it reads and writes, line by line.

Hand-written because no parser of Qlik's script language exists on PyPI (the open-source
connectors only read Qlik's own lineage answers); the SQL inside `SQL SELECT` is parsed by
sqlglot, in the dialect of the connection in force when the caller says which one it is
(BigQuery's backticks, T-SQL's brackets ...), else in the generic, T-SQL and Snowflake
dialects in turn. The parser never raises on a script: what it cannot resolve (a path built at run
time, an include it was not given, SQL it cannot read) becomes an `unresolved` reference
with its line, so nothing a script touches is silently dropped.
"""

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# Control statements end at the end of their line, not at a semicolon.
CONTROL_KEYWORDS = re.compile(
    r"(?i)^(if|elseif|else|end\s*if|for|next|sub|end\s*sub|do|loop|exit|switch|case|default|"
    r"end\s*switch)\b"
)
# Prefixes that may stand before LOAD/SELECT without changing where the data comes from.
LOAD_PREFIXES = re.compile(
    r"(?is)^\s*(?:(?:mapping|noconcatenate|generic|add|replace|buffer(?:\s*\([^)]*\))?|"
    r"unless\b[^;]*?|first\s+\d+|sample\s+[\d.]+|"
    r"(?:left|right|inner|outer)?\s*(?:join|keep)(?:\s*\([^)]*\))?|concatenate(?:\s*\([^)]*\))?|"
    r"crosstable\s*\([^)]*\)|hierarchy(?:belongsto)?\s*\([^)]*\)|intervalmatch\s*\([^)]*\)|"
    r"only)\s+)+"
)
LABEL = re.compile(r"^\s*(?:\[[^\]]+\]|\"[^\"]+\"|[\w.$()-]+)\s*:(?!//)\s*")
VARIABLE = re.compile(r"\$\(([^()=]+?)\)")
INCLUDE = re.compile(r"(?i)\$\((must_include|include)\s*=\s*([^)]*)\)")
# Data-connection types (qType, or datasourceID) → sqlglot dialect; keys without "_- ".
SQL_DIALECTS = {
    "bigquery": "bigquery",
    "googlebigquery": "bigquery",
    "mysql": "mysql",
    "mariadb": "mysql",
    "singlestore": "singlestore",
    "snowflake": "snowflake",
    "postgres": "postgres",
    "postgresql": "postgres",
    "sqlserver": "tsql",
    "mssql": "tsql",
    "microsoftsqlserver": "tsql",
    "azuresql": "tsql",
    "azuresqldatabase": "tsql",
    "azuresynapse": "tsql",
    "synapse": "tsql",
    "fabric": "fabric",
    "oracle": "oracle",
    "redshift": "redshift",
    "amazonredshift": "redshift",
    "databricks": "databricks",
    "spark": "spark",
    "sparksql": "spark",
    "hive": "hive",
    "apachehive": "hive",
    "impala": "hive",
    "athena": "athena",
    "amazonathena": "athena",
    "presto": "presto",
    "trino": "trino",
    "teradata": "teradata",
    "clickhouse": "clickhouse",
    "duckdb": "duckdb",
    "sqlite": "sqlite",
    "exasol": "exasol",
    "dremio": "dremio",
    "doris": "doris",
    "starrocks": "starrocks",
}
FILE_FORMATS = ("qvd", "csv", "txt", "xlsx", "xls", "parquet", "json", "xml", "qvx", "html", "fix", "dif")


@dataclass(frozen=True)
class ScriptReference:
    """One thing a script statement reads, writes or could not resolve."""

    kind: (
        str  # connect | load_file | load_sql | store | binary | resident | inline | autogenerate | unresolved
    )
    line: int
    statement: str
    path: str = ""  # lib:// path of a file (load_file, store, binary of a file)
    connection: str = ""  # connection in force (load_sql) or named (connect)
    table: tuple[str, str, str] | None = None  # (catalog, schema, table) of SQL
    name: str = ""  # resident table, binary app id, or why it is unresolved
    file_format: str = ""
    include: str = ""  # the include file the statement came from, if any


@dataclass
class _State:
    variables: dict[str, str] = field(default_factory=dict)
    connection: str = ""
    includes: Mapping[str, str] = field(default_factory=dict)
    depth: int = 0
    dialect_of: Callable[[str], str | None] | None = None


@dataclass(frozen=True)
class _Statement:
    text: str
    line: int


def script_references(
    script: str,
    *,
    includes: Mapping[str, str] | None = None,
    dialect_of: Callable[[str], str | None] | None = None,
) -> list[ScriptReference]:
    """Everything `script` reads and writes, in order. `includes` maps include paths to text;
    `dialect_of` gives the sqlglot dialect of a connection named by LIB CONNECT TO (None
    when unknown), in which the SQL sent through it is read."""
    state = _State(includes={_include_key(k): v for k, v in (includes or {}).items()}, dialect_of=dialect_of)
    return list(_references(script, state, include=""))


def sql_dialect(connection_type: str) -> str | None:
    """The sqlglot dialect of a data-connection type (`bigquery`, `sqlserver` ...), or None."""
    return SQL_DIALECTS.get(re.sub(r"[\s_.-]+", "", (connection_type or "").lower()))


def _references(script: str, state: _State, *, include: str) -> Iterator[ScriptReference]:
    for statement in _statements(script):
        yield from _statement_references(statement, state, include=include)


# --- lexing --------------------------------------------------------------------------------


def _statements(script: str) -> Iterator[_Statement]:
    """Split on `;` outside quotes and brackets; comments, REM and control lines removed."""
    buffer: list[str] = []
    start_line, line = 1, 1
    quote = ""  # the closing character we are inside: ' " ] or `
    i, n = 0, len(script)
    at_start = True
    while i < n:
        char = script[i]
        if quote:
            buffer.append(char)
            if char == "\n":
                line += 1
            if char == quote:
                quote = ""
            i += 1
            continue
        if char == "/" and script.startswith("/*", i):
            end = script.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += script.count("\n", i, end)
            buffer.append("\n" * script.count("\n", i, end) if buffer else "")
            i = end
            continue
        if char == "/" and script.startswith("//", i) and (i == 0 or script[i - 1] != ":"):
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        if at_start:
            if char.isspace():
                if char == "\n":
                    line += 1
                i += 1
                continue
            start_line = line
            at_start = False
            line_end = script.find("\n", i)
            rest_of_line = script[i : line_end if line_end >= 0 else n]
            if CONTROL_KEYWORDS.match(rest_of_line):
                i += len(rest_of_line)
                at_start = True
                continue
            if re.match(r"(?i)^rem\b", rest_of_line):
                end = script.find(";", i)
                end = n if end < 0 else end + 1
                line += script.count("\n", i, end)
                i = end
                at_start = True
                continue
        if char in "'\"[`":
            quote = {"[": "]"}.get(char, char)
        if char == "\n":
            line += 1
        if char == ";":
            text = "".join(buffer).strip()
            if text:
                yield _Statement(text, start_line)
            buffer = []
            at_start = True
            i += 1
            continue
        buffer.append(char)
        i += 1
    text = "".join(buffer).strip()
    if text:
        yield _Statement(text, start_line)


# --- variables and includes ------------------------------------------------------------


def _expand(text: str, state: _State) -> str:
    """Replace $(name) by known variables; unknown ones stay, and make a path unresolved."""
    for _ in range(5):  # variables may hold other variables
        expanded = VARIABLE.sub(lambda m: state.variables.get(m.group(1).strip().lower(), m.group(0)), text)
        if expanded == text:
            break
        text = expanded
    return text


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and (value[0], value[-1]) in (("'", "'"), ('"', '"'), ("[", "]"), ("`", "`")):
        return value[1:-1]
    return value


def _let_value(expression: str, state: _State) -> str | None:
    """A LET expression we can evaluate: string literals and variables joined with &."""
    parts = [part.strip() for part in re.split(r"&(?=(?:[^']*'[^']*')*[^']*$)", expression)]
    values = []
    for part in parts:
        if re.fullmatch(r"'[^']*'", part):
            values.append(part[1:-1])
        elif re.fullmatch(r"-?\d+(\.\d+)?", part):
            values.append(part)
        elif (known := state.variables.get(part.lower())) is not None:
            values.append(known)
        elif VARIABLE.fullmatch(part) and "$(" not in (expanded := _expand(part, state)):
            values.append(expanded)
        else:
            return None
    return "".join(values)


def _include_key(path: str) -> str:
    return normalize_lib_path(_unquote(path)) or _unquote(path).strip().lower()


# --- statements --------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:500]


def _statement_references(statement: _Statement, state: _State, *, include: str) -> Iterator[ScriptReference]:
    raw = statement.text
    evidence = _one_line(raw)

    def ref(kind: str, **values) -> ScriptReference:
        return ScriptReference(kind=kind, line=statement.line, statement=evidence, include=include, **values)

    if match := INCLUDE.search(raw):
        target = _expand(match.group(2), state)
        text = state.includes.get(_include_key(target))
        if text is None or state.depth >= 5:
            why = "include file not available" if text is None else "includes nested too deeply"
            yield ref("unresolved", path=_unquote(target), name=f"{match.group(1)}: {why}")
        else:
            state.depth += 1
            yield from _references(text, state, include=_unquote(target))
            state.depth -= 1
        raw = INCLUDE.sub("", raw).strip()
        if not raw:
            return

    if match := re.match(r"(?is)^(set|let)\s+([^=]+?)\s*=\s*(.*)$", raw):
        name, value = match.group(2).strip().lower(), match.group(3).strip()
        if match.group(1).lower() == "set":
            state.variables[name] = _unquote(_expand(value, state))
        else:
            evaluated = _let_value(value, state)
            if evaluated is None:
                state.variables.pop(name, None)  # a run-time value: paths using it are unresolved
            else:
                state.variables[name] = evaluated
        return

    text = _expand(raw, state)
    text = LABEL.sub("", text, count=1) if not re.match(r"(?i)^\s*lib\s+connect", text) else text

    if match := re.match(r"(?is)^lib\s+connect\s+to\s+(.+)$", text):
        state.connection = _unquote(match.group(1).strip())
        yield ref("connect", connection=state.connection)
        return
    if re.match(r"(?is)^(odbc|oledb|custom)\s+connect", text):
        state.connection = ""
        yield ref("unresolved", name="connection string in the script, not a data connection")
        return
    if match := re.match(r"(?is)^binary\s+(.+)$", text):
        target = _unquote(match.group(1).strip())
        if normalize_lib_path(target):
            yield ref("binary", path=target)
        elif re.fullmatch(r"[0-9a-fA-F-]{36}|[0-9a-fA-F]{24}", target):  # app GUID or item id
            yield ref("binary", name=target.lower())
        else:
            yield ref("unresolved", path=target, name="binary source is neither an app id nor a lib:// path")
        return
    if match := re.match(r"(?is)^store\s+(?:.+?\s+from\s+)?(.+?)\s+into\s+(.+?)(?:\s*\(([^)]*)\))?$", text):
        yield from _file_reference(ref, "store", match.group(2), match.group(3))
        return

    body = LOAD_PREFIXES.sub("", text, count=1)
    if re.match(r"(?is)^(sql\s+)?(select|with)\b", body):
        yield from _sql_references(ref, re.sub(r"(?is)^sql\s+", "", body), state)
        return
    if re.match(r"(?is)^load\b", body):
        yield from _load_references(ref, body)


def _file_reference(ref, kind: str, target: str, format_spec: str | None) -> Iterator[ScriptReference]:
    path = _unquote(target.strip())
    file_format = _file_format(path, format_spec)
    if "$(" in path:
        yield ref(
            "unresolved", path=path, name="path holds a variable set at run time", file_format=file_format
        )
    elif not normalize_lib_path(path):
        yield ref(
            "unresolved", path=path, name="path is not under a lib:// connection", file_format=file_format
        )
    else:
        yield ref(kind, path=path, file_format=file_format)


def _file_format(path: str, format_spec: str | None) -> str:
    spec = (format_spec or "").lower()
    for name in FILE_FORMATS:
        if re.search(rf"\b{name}\b", spec):
            return "xlsx" if name == "ooxml" else name
    if "ooxml" in spec:
        return "xlsx"
    if "txt" in spec or "delimiter" in spec:
        return "txt"
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return suffix


FROM_CLAUSE = re.compile(
    r"""(?isx)\bfrom\s+
    (\[[^\]]*\]|'[^']*'|"[^"]*"|`[^`]*`|[^\s(;]+)   # the path, quoted, bracketed or bare
    (?:\s*\(([^)]*)\))?                              # an optional format spec
    """
)


def _load_references(ref, body: str) -> Iterator[ScriptReference]:
    # Field lists may quote anything; look for the source keywords outside quotes.
    unquoted = re.sub(r"\[[^\]]*\]|'[^']*'|\"[^\"]*\"", lambda m: " " * len(m.group(0)), body)
    if match := re.search(r"(?i)\binline\b", unquoted):
        yield ref("inline")
        return
    if re.search(r"(?i)\bautogenerate\b", unquoted):
        yield ref("autogenerate")
        return
    if match := re.search(r"(?i)\bresident\s+(\[[^\]]*\]|\"[^\"]*\"|\w+)", body):
        yield ref("resident", name=_unquote(match.group(1)))
        return
    if re.search(r"(?i)\bfrom_field\b", unquoted):
        yield ref("unresolved", name="FROM_FIELD reads a field of a loaded table")
        return
    from_at = re.search(r"(?i)\bfrom\b", unquoted)
    if not from_at:
        return  # a preceding LOAD: its source is the statement that follows
    match = FROM_CLAUSE.match(body, from_at.start())
    if match:
        yield from _file_reference(ref, "load_file", match.group(1), match.group(2))


def _sql_references(ref, sql: str, state: _State) -> Iterator[ScriptReference]:
    dialect = state.dialect_of(state.connection) if state.dialect_of and state.connection else None
    tables = _sql_tables(sql, dialect)
    if tables is None:
        yield ref("unresolved", connection=state.connection, name="SQL that sqlglot cannot parse")
        return
    if not state.connection:
        yield ref("unresolved", name="SQL SELECT before any LIB CONNECT TO")
    for table in tables:
        yield ref("load_sql", connection=state.connection, table=table)


@functools.lru_cache(maxsize=4096)
def _sql_tables(sql: str, dialect: str | None = None) -> tuple[tuple[str, str, str], ...] | None:
    """The tables `sql` reads, parsed in `dialect` first; None when no dialect can read it.

    Remembered per (SQL, dialect), a bounded few thousand: sqlglot's parse is most of a
    script's, and an estate repeats its SQL (copied apps, one extract pattern per source)."""
    for candidate in dict.fromkeys((dialect, None, "tsql", "snowflake")):
        try:
            tree = sqlglot.parse_one(sql, read=candidate)
        except SqlglotError:
            continue
        if tree is None:
            return None
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        tables = []
        for table in tree.find_all(exp.Table):
            if not table.name or (not table.db and table.name.lower() in ctes):
                continue
            key = (table.catalog, table.db, table.name)
            if key not in tables:
                tables.append(key)
        return tuple(tables)  # shared by every caller of the cache: immutable
    return None


# --- identities of paths -------------------------------------------------------------------


def normalize_lib_path(path: str) -> str:
    """`lib://Conn/dir/File.qvd` in one spelling: lower case, forward slashes, no quotes.

    Returns "" for a path that is not under a lib:// connection.
    """
    path = _unquote(path.strip()).strip().replace("\\", "/")
    if not path.lower().startswith("lib://"):
        return ""
    rest = re.sub(r"/{2,}", "/", path[6:]).strip("/")
    return f"lib://{rest.lower()}" if rest else ""


def lib_path_connection(path: str) -> str:
    """The data connection a lib:// path goes through (with its space prefix, if any)."""
    normalized = normalize_lib_path(path)
    return normalized[6:].split("/", 1)[0] if normalized else ""
