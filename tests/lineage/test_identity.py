"""Node ids: bounded in length, one per thing however a source spells it."""

from lineage import identity
from lineage.identity import ConnectionNames


def test_an_id_too_long_to_index_becomes_a_readable_prefix_and_a_stable_digest():
    path = "lib://Data/" + "Ä" * 10_000 + ".qvd"  # two bytes a character
    node_id = identity.file_node_id(path)
    assert len(node_id.encode()) <= identity.MAX_ID_BYTES
    assert node_id.startswith("file:lib://data/ää")
    assert node_id == identity.file_node_id(path.upper().replace("/", "\\").replace("LIB:\\\\", "lib://"))
    assert node_id != identity.file_node_id(path[:-5] + "x.qvd")  # differs only past the prefix
    short = "lib://Data/orders.qvd"
    assert identity.file_node_id(short) == "file:lib://data/orders.qvd"  # short ids stay as they were


def test_a_qri_from_the_lineage_api_is_not_prefixed_twice():
    assert identity.qri_node_id("qri:db:snowflake://abc#orders") == "qri:db:snowflake://abc#orders"
    assert identity.qri_node_id("db:snowflake://abc#orders") == "qri:db:snowflake://abc#orders"


SPACES = {"s-fin": "Finance", "s-ops": "Operations"}
LISTED = [
    {"id": "c-fin", "qName": "DWH", "qType": "snowflake", "space": "s-fin"},
    {"id": "c-ops", "qName": "DWH", "qType": "postgres", "space": "s-ops"},
    {"id": "c-bq", "qName": "Lake", "qType": "bigquery", "space": "s-fin"},
    {"id": "c-me", "qName": "Mine", "qType": "folder", "space": ""},
]


def test_a_connection_written_with_its_space_name_is_the_listed_connection():
    names = ConnectionNames(LISTED, SPACES)
    assert names.resolve("Finance:DWH").connection_id == "c-fin"
    assert names.resolve("operations:dwh").connection_id == "c-ops"
    assert names.resolve("Finance:DWH").node_id == "connection:finance:dwh"
    assert names.of_path("lib://Finance:Lake/x/y.csv").connection_id == "c-bq"
    assert names.resolve("Mine").node_id == "connection:mine"  # personal: no space in its name


def test_a_connection_name_matches_by_the_part_after_the_colon_only_when_unambiguous():
    names = ConnectionNames(LISTED, SPACES)
    assert names.resolve("Old space name:Lake").connection_id == "c-bq"  # one listed Lake
    assert names.resolve("Lake").connection_id == "c-bq"
    ambiguous = names.resolve("Old space name:DWH")  # two listed DWH: neither is guessed
    assert (ambiguous.listed, ambiguous.node_id) == (False, "connection:old space name:dwh")
    unknown = names.resolve("Nowhere")
    assert (unknown.listed, unknown.node_id, unknown.label) == (False, "connection:nowhere", "Nowhere")


def test_a_connection_in_a_space_of_unknown_name_is_named_by_the_space_id():
    names = ConnectionNames([{"id": "c1", "qName": "DWH", "space": "s-gone"}], SPACES)
    assert names.resolve("DWH").node_id == "connection:s-gone:dwh"


def test_a_connection_knows_the_sql_dialect_of_its_type():
    names = ConnectionNames(
        [
            *LISTED,
            {"id": "c-odbc", "qName": "Odbc", "qType": "QvOdbcConnectorPackage.exe", "datasourceID": "mssql"},
        ],
        SPACES,
    )
    assert names.dialect("Finance:Lake") == "bigquery"
    assert names.dialect("Operations:DWH") == "postgres"
    assert names.dialect("Odbc") == "tsql"  # the package is generic: its data source says
    assert names.dialect("Mine") is None
    assert names.dialect("Nowhere") is None


def test_a_data_file_is_named_by_the_path_scripts_use_for_it():
    assert (
        identity.data_file_path("Extract/Sales_0.qvd", space="Finance")
        == "lib://Finance:DataFiles/Extract/Sales_0.qvd"
    )
    assert identity.data_file_path("Sales.qvd") == "lib://DataFiles/Sales.qvd"
