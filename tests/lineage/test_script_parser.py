"""The load-script parser on a corpus of scripts (tests/lineage/scripts): every construct."""

from pathlib import Path

import pytest

from lineage.script_parser import lib_path_connection, normalize_lib_path, script_references, sql_dialect

SCRIPTS = Path(__file__).parent / "scripts"


def _refs(name: str, **kwargs) -> list[tuple]:
    refs = script_references((SCRIPTS / name).read_text(), **kwargs)
    return [(r.kind, r.line, r.path or r.connection or r.name, r.table, r.file_format) for r in refs]


def test_an_extract_script_yields_every_source_and_target_with_its_line():
    assert _refs("extract_sales.qvs") == [
        ("connect", 7, "Snowflake_DWH", None, ""),
        # one SQL statement over many lines, with a schema-qualified join
        ("load_sql", 17, "Snowflake_DWH", ("ANALYTICS", "DWH", "ORDERS"), ""),
        ("load_sql", 17, "Snowflake_DWH", ("", "dwh", "customers"), ""),
        # LET concatenation expanded into the STORE path
        ("store", 22, "lib://QVD Store/Sales/Orders.qvd", None, "qvd"),
        ("inline", 24, "", None, ""),
        ("autogenerate", 31, "", None, ""),
        # SET variable expanded into the path; format from the spec (ooxml)
        ("load_file", 35, "lib://DataFiles/Raw/targets.xlsx", None, "xlsx"),
        ("load_file", 40, "lib://DataFiles/Raw/rates.csv", None, "txt"),
        ("load_file", 44, "lib://DataFiles/Raw/events.parquet", None, "parquet"),
        ("resident", 47, "Sales Orders", None, ""),
    ]


def test_comments_and_rem_hide_what_they_contain():
    paths = {r.path for r in script_references((SCRIPTS / "extract_sales.qvs").read_text())}
    assert not {p for p in paths if "commented_out" in p or "rem_out" in p}


def test_includes_are_followed_when_known_and_reported_when_not():
    common = (SCRIPTS / "common.qvs").read_text()
    refs = script_references(
        (SCRIPTS / "model.qvs").read_text(), includes={"[lib://datafiles/scripts/COMMON.qvs]": common}
    )
    included = [r for r in refs if r.include]
    assert [(r.kind, r.path, r.line) for r in included] == [
        ("load_file", "lib://DataFiles/Common/holidays.qvd", 2)
    ]
    missing = [r for r in refs if r.kind == "unresolved" and "include" in r.name.lower()]
    assert [(r.path, r.line) for r in missing] == [("lib://DataFiles/Scripts/missing.qvs", 2)]


def test_dynamic_and_foreign_paths_are_kept_as_unresolved_with_their_line():
    refs = _refs("model.qvs")
    assert ("unresolved", 11, "$(vFile)", None, "txt") in refs  # FOR EACH loop variable
    assert ("unresolved", 15, "C:\\Data\\legacy.qvd", None, "qvd") in refs  # not under lib://
    # the include is unknown here, so it is unresolved too, and the rest still parses
    assert ("store", 18, "lib://QVD Store/Model/orders_model.qvd", None, "qvd") in refs
    assert ("load_file", 7, "lib://QVD Store\\Sales\\Customers.qvd", None, "qvd") in refs


def test_binary_bracketed_connections_and_quoted_paths():
    assert _refs("dashboard.qvs") == [
        ("binary", 1, "7fc4d85c-0e07-4160-90a9-c2ca4a45fd81", None, ""),
        ("connect", 2, "SQL Server (CRM)", None, ""),
        ("load_sql", 3, "SQL Server (CRM)", ("crm", "dbo", "Accounts"), ""),
        ("load_sql", 3, "SQL Server (CRM)", ("crm", "dbo", "Owners"), ""),
        ("load_file", 7, "lib://Space A:DataFiles/Budget 2025.xlsx", None, "xlsx"),
    ]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("SQL SELECT * FROM ;", [("unresolved", "SQL that sqlglot cannot parse")]),
        ("SQL SELECT a FROM t;", [("unresolved", "SQL SELECT before any LIB CONNECT TO"), ("load_sql", "")]),
        (
            "ODBC CONNECT TO [dsn];",
            [("unresolved", "connection string in the script, not a data connection")],
        ),
        ("LOAD a, b;", []),  # a preceding load: its source is the next statement
        ("Binary [lib://Apps/base.qvf];", [("binary", "")]),
        (
            "LET v = Now(); LOAD * FROM [lib://X/$(v).qvd] (qvd);",
            [("unresolved", "path holds a variable set at run time")],
        ),
        (
            "WITH recent AS (SELECT * FROM s.orders) SELECT * FROM recent;",
            [("unresolved", "SQL SELECT before any LIB CONNECT TO"), ("load_sql", "")],
        ),
    ],
)
def test_edge_cases_name_what_they_could_not_resolve(script, expected):
    assert [(r.kind, r.name) for r in script_references(script)] == expected


def test_sql_common_table_expressions_are_not_tables():
    refs = script_references(
        "LIB CONNECT TO 'pg'; WITH recent AS (SELECT * FROM s.orders) SELECT * FROM recent;"
    )
    assert [r.table for r in refs if r.kind == "load_sql"] == [("", "s", "orders")]


@pytest.mark.parametrize(
    "spelling",
    [
        "lib://DataFiles/Sales.qvd",
        "[lib://datafiles/sales.qvd]",
        "'LIB://DataFiles//Sales.QVD'",
        "lib://DataFiles\\Sales.qvd",
    ],
)
def test_every_spelling_of_a_lib_path_normalizes_to_one(spelling):
    assert normalize_lib_path(spelling) == "lib://datafiles/sales.qvd"
    assert lib_path_connection(spelling) == "datafiles"


def test_a_path_outside_lib_is_not_normalized():
    assert normalize_lib_path("C:\\data\\x.qvd") == ""


BIGQUERY_SCRIPT = """LIB CONNECT TO 'Finance:Lake';
SQL SELECT a, b FROM `my-project`.`sales`.`orders` o JOIN `my-project.sales.customers` c ON o.c = c.id;
LIB CONNECT TO 'Legacy';
SQL SELECT * FROM [dbo].[Invoices];
"""


def test_sql_is_read_in_the_dialect_of_the_connection_in_force():
    dialects = {"finance:lake": "bigquery"}
    refs = script_references(BIGQUERY_SCRIPT, dialect_of=lambda name: dialects.get(name.lower()))
    assert [(r.kind, r.connection, r.table) for r in refs if r.kind != "connect"] == [
        ("load_sql", "Finance:Lake", ("my-project", "sales", "orders")),
        ("load_sql", "Finance:Lake", ("my-project", "sales", "customers")),
        # a connection of unknown type: the dialects tried before still read T-SQL brackets
        ("load_sql", "Legacy", ("", "dbo", "Invoices")),
    ]


def test_backticked_sql_of_a_connection_of_unknown_type_stays_unresolved_not_guessed():
    refs = script_references(BIGQUERY_SCRIPT)
    assert [(r.kind, r.name) for r in refs if r.connection == "Finance:Lake" and r.kind != "connect"] == [
        ("unresolved", "SQL that sqlglot cannot parse")
    ]


@pytest.mark.parametrize(
    ("connection_type", "dialect"),
    [
        ("bigquery", "bigquery"),
        ("MySQL", "mysql"),
        ("snowflake", "snowflake"),
        ("postgres", "postgres"),
        ("postgresql", "postgres"),
        ("sqlserver", "tsql"),
        ("mssql", "tsql"),
        ("Microsoft SQL Server", "tsql"),
        ("oracle", "oracle"),
        ("redshift", "redshift"),
        ("databricks", "databricks"),
        ("folder", None),
        ("", None),
    ],
)
def test_a_connection_type_names_its_sql_dialect(connection_type, dialect):
    assert sql_dialect(connection_type) == dialect
