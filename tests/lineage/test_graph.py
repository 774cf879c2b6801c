"""Building one graph from three sources: identities, merged edges, cross-app chains."""

import pytest

from lineage.graph import (
    SOURCE_API,
    SOURCE_RELOAD,
    SOURCE_SCRIPT,
    AppInput,
    LineageGraph,
    SpooledLineageGraph,
    lineage_graph_build,
)
from qlik.fake_tenant import FakeEstate

EXTRACT = "11111111-1111-1111-1111-111111111111"
MODEL = "22222222-2222-2222-2222-222222222222"
DASH = "33333333-3333-3333-3333-333333333333"
FILE_QRI = "qri:qdf:space://abc#sales"


def _chain() -> list[AppInput]:
    return [
        AppInput(
            guid=EXTRACT,
            name="Extract",
            item_id="a" * 24,
            script=(
                "LIB CONNECT TO 'DWH';\nSQL SELECT * FROM dwh.orders;\n"
                "STORE T INTO [lib://DataFiles/Sales.qvd] (qvd);"
            ),
            reload_metadata={
                "reloadId": "r1",
                "statements": [
                    {
                        "type": "Store",
                        "connection": "DataFiles",
                        "label": "lib://DataFiles/Sales.qvd",
                        "qri": FILE_QRI,
                    }
                ],
            },
        ),
        AppInput(guid=MODEL.upper(), name="Model", script="LOAD * FROM [lib://datafiles/SALES.qvd] (qvd);"),
        AppInput(
            guid=DASH,
            name="Dashboard",
            script=f"Binary [{MODEL}];",
            lineage_graph={
                "nodes": {
                    f"qri:app:sense://{MODEL}": {"label": "Model", "metadata": {"type": "APP"}},
                    f"qri:app:sense://{DASH}": {"label": "Dashboard", "metadata": {"type": "APP"}},
                    FILE_QRI: {"label": "Sales", "metadata": {"type": "DATASET"}},
                },
                "edges": [
                    {
                        "source": f"qri:app:sense://{MODEL}",
                        "target": f"qri:app:sense://{DASH}",
                        "relation": "from",
                    },
                    {"source": FILE_QRI, "target": f"qri:app:sense://{MODEL}", "relation": "from"},
                ],
            },
        ),
    ]


def test_one_qvd_node_links_the_app_that_stores_it_to_the_app_that_loads_it():
    graph = lineage_graph_build(apps=_chain())
    qvd = "file:lib://datafiles/sales.qvd"
    assert [node for node in graph.nodes if node.startswith("file:")] == [qvd]
    assert (f"app:{EXTRACT}", qvd) in graph.edges
    assert (qvd, f"app:{MODEL}") in graph.edges
    assert graph.edges[("table:dwh/dwh.orders", f"app:{EXTRACT}")]["relation"] == "loads"
    assert graph.edges[("connection:dwh", "table:dwh/dwh.orders")]["relation"] == "contains"


def test_an_edge_given_by_several_sources_is_one_edge_listing_each_with_evidence():
    graph = lineage_graph_build(apps=_chain())
    stored = graph.edges[(f"app:{EXTRACT}", "file:lib://datafiles/sales.qvd")]
    assert stored["sources"] == [SOURCE_RELOAD, SOURCE_SCRIPT]
    assert {e["source"]: e.get("line") for e in stored["evidence"]} == {SOURCE_RELOAD: None, SOURCE_SCRIPT: 3}
    # The lineage API names the QVD by QRI only; reload metadata taught us which file it is.
    loaded = graph.edges[("file:lib://datafiles/sales.qvd", f"app:{MODEL}")]
    assert loaded["sources"] == [SOURCE_SCRIPT, SOURCE_API]


def test_an_app_is_one_node_whether_named_by_guid_item_id_or_qri():
    apps = [*_chain(), AppInput(guid="44444444-4444-4444-4444-444444444444", script=f"Binary [{'A' * 24}];")]
    graph = lineage_graph_build(apps=apps)
    app_nodes = sorted(node for node, data in graph.nodes.items() if data["type"] == "app")
    assert app_nodes == sorted(
        f"app:{guid}" for guid in (EXTRACT, MODEL, DASH, "44444444-4444-4444-4444-444444444444")
    )
    binary = graph.edges[(f"app:{MODEL}", f"app:{DASH}")]
    assert (binary["relation"], binary["sources"]) == ("binary", [SOURCE_SCRIPT, SOURCE_API])
    # the item id in the last app's Binary resolves to the Extract app
    assert (f"app:{EXTRACT}", "app:44444444-4444-4444-4444-444444444444") in graph.edges


def test_unresolved_references_become_nodes_naming_the_line():
    graph = lineage_graph_build(
        apps=[AppInput(guid=EXTRACT, script="SET a=1;\nLOAD * FROM [$(vMissing)x.qvd] (qvd);")]
    )
    unresolved = [node for node in graph.nodes.values() if node["type"] == "unresolved"]
    assert [(node["line"], node["reason"]) for node in unresolved] == [
        (2, "path holds a variable set at run time")
    ]
    assert graph.edges[(unresolved[0]["id"], f"app:{EXTRACT}")]["relation"] == "unresolved"


def test_connections_are_named_by_their_data_connection_whatever_the_case():
    graph = lineage_graph_build(
        apps=[AppInput(guid=EXTRACT, script="LIB CONNECT TO 'dwh';\nSQL SELECT * FROM Orders;")],
        connections=[{"id": "c1", "qName": "DWH", "qri": "qri:db:pg://x", "qType": "postgres"}],
    )
    assert graph.nodes["connection:dwh"]["connection_id"] == "c1"
    assert graph.nodes["connection:dwh"]["label"] == "DWH"


def test_a_binary_of_an_unknown_app_is_unresolved_not_dropped():
    graph = lineage_graph_build(apps=[AppInput(guid=EXTRACT, script=f"Binary [{'b' * 24}];")])
    (node,) = [node for node in graph.nodes.values() if node["type"] == "unresolved"]
    assert node["reason"] == f"binary of an app not in this project: {'b' * 24}"
    assert "" not in graph.nodes


def _estate_apps(estate: FakeEstate) -> list[AppInput]:
    apps = []
    for n in estate.app_ids():
        reloads = estate.app_reloads(n)
        apps.append(
            AppInput(
                guid=estate.app_guid(n),
                name=estate.app_item(n)["name"],
                item_id=estate.app_item(n)["id"],
                script=estate.app_script(n),
                reload_metadata=estate.reload_metadata(n, reloads[0]["id"]) if reloads else None,
                lineage_graph=estate.lineage_graph(n),
            )
        )
    return [*apps, *_chain()]


@pytest.mark.parametrize("partitions", [1, 3, 16])
def test_a_graph_spooled_in_partitions_merges_exactly_as_one_in_memory(tmp_path, partitions):
    estate = FakeEstate(seed=11, apps=40)
    apps = _estate_apps(estate)
    connections = estate.connections
    in_memory = lineage_graph_build(apps=apps, connections=connections)
    spool = lineage_graph_build(
        apps=apps, connections=connections, graph=SpooledLineageGraph(tmp_path, partitions)
    )
    spooled, sizes = LineageGraph(), []
    for partition in spool.partitions():
        sizes.append(len(partition.nodes) + len(partition.edges))
        assert not set(partition.nodes) & set(spooled.nodes)  # a key lives in one partition
        assert not set(partition.edges) & set(spooled.edges)
        spooled.nodes.update(partition.nodes)
        spooled.edges.update(partition.edges)
    assert len(in_memory.edges) > 100 and any(len(e["sources"]) == 3 for e in in_memory.edges.values())
    assert spooled.nodes == in_memory.nodes
    assert spooled.edges == in_memory.edges  # sources and evidence merged in the same order
    assert len(sizes) == partitions and (partitions == 1 or max(sizes) < sum(sizes) / 2)
    assert list(tmp_path.iterdir()) == []  # the spool is gone once read


SPACES = {"s-fin": "Finance"}
LISTED = [
    {"id": "c-dwh", "qName": "DWH", "qri": "qri:db:pg://dwh", "qType": "postgres", "space": "s-fin"},
    {"id": "c-bq", "qName": "Lake", "qri": "qri:db:bq://lake", "qType": "bigquery", "space": "s-fin"},
    {"id": "c-qvd", "qName": "QVDs", "qri": "qri:folder://qvds", "qType": "folder", "space": "s-fin"},
]


def test_a_connection_named_with_its_space_by_scripts_and_plainly_by_the_listing_is_one_node():
    script = (
        "LIB CONNECT TO 'Finance:DWH';\nSQL SELECT * FROM dwh.orders;\n"
        "LOAD * FROM [lib://Finance:QVDs/Sales.qvd] (qvd);"
    )
    metadata = {
        "reloadId": "r1",
        "statements": [{"type": "Load", "connection": "DWH", "connectionId": "c-dwh", "label": "dwh.orders"}],
    }
    graph = lineage_graph_build(
        apps=[AppInput(guid=EXTRACT, script=script, reload_metadata=metadata)],
        connections=LISTED,
        spaces=SPACES,
    )
    connections = sorted(node for node, data in graph.nodes.items() if data["type"] == "connection")
    assert connections == ["connection:finance:dwh", "connection:finance:lake", "connection:finance:qvds"]
    assert graph.nodes["connection:finance:dwh"]["connection_id"] == "c-dwh"
    assert graph.nodes["connection:finance:dwh"]["space_name"] == "Finance"
    table = "table:finance:dwh/dwh.orders"
    assert graph.edges[("connection:finance:dwh", table)]["sources"] == [SOURCE_RELOAD, SOURCE_SCRIPT]
    assert ("connection:finance:qvds", "file:lib://finance:qvds/sales.qvd") in graph.edges


def test_bigquery_sql_through_a_bigquery_connection_becomes_its_tables():
    script = "LIB CONNECT TO 'Finance:Lake';\nSQL SELECT a FROM `project`.`dataset`.`table`;"
    graph = lineage_graph_build(
        apps=[AppInput(guid=EXTRACT, script=script)], connections=LISTED, spaces=SPACES
    )
    assert graph.edges[("table:finance:lake/project.dataset.table", f"app:{EXTRACT}")]["relation"] == "loads"
    assert not [node for node in graph.nodes.values() if node["type"] == "unresolved"]


def test_a_lineage_api_qri_is_a_node_id_without_a_second_qri_prefix():
    table_qri = "qri:db:snowflake://acct#orders"
    graph = lineage_graph_build(
        apps=[
            AppInput(
                guid=EXTRACT,
                lineage_graph={
                    "nodes": {
                        table_qri: {"label": "ORDERS", "metadata": {"type": "TABLE"}},
                        f"qri:app:sense://{EXTRACT}": {"label": "Extract", "metadata": {"type": "APP"}},
                    },
                    "edges": [
                        {"source": table_qri, "target": f"qri:app:sense://{EXTRACT}", "relation": "from"}
                    ],
                },
            )
        ]
    )
    assert table_qri in graph.nodes
    assert not [node for node in graph.nodes if node.startswith("qri:qri:")]
    assert (table_qri, f"app:{EXTRACT}") in graph.edges


SALES_SECURE_QRI = "qri:qdf:space://a1b2c3#d4e5f6"


def _sales_dataset(**changes) -> dict:
    return {
        "dataset_id": "d" * 24,
        "name": "Sales_0.qvd",
        "resourceSubType": "qix-df",
        "spaceId": "s-fin",
        "qri": "qdf:qix-datafiles:tenant1:sid@s-fin:Extract/Sales_0.qvd",
        "secureQri": SALES_SECURE_QRI,
        "technicalName": "Extract/Sales_0.qvd",
        "dataStoreType": "qix-datafiles",
        "size": 123456,
        "updatedAt": "2026-11-20T08:00:00Z",
        **changes,
    }


def test_a_data_file_named_by_script_reload_label_and_secure_qri_is_one_node_with_its_name():
    apps = [
        AppInput(
            guid=EXTRACT,
            script="STORE T INTO [lib://finance:datafiles\\EXTRACT\\sales_0.QVD] (qvd);",
            reload_metadata={
                "reloadId": "r1",
                "statements": [
                    {
                        "type": "Store",
                        "connection": "Finance:DataFiles",
                        "label": "lib://Finance:DataFiles/Extract/Sales_0.qvd",
                    }
                ],
            },
        ),
        AppInput(
            guid=MODEL,
            lineage_graph={
                "nodes": {
                    SALES_SECURE_QRI: {"label": "Sales_0.qvd", "metadata": {"type": "DATASET"}},
                    f"qri:app:sense://{MODEL}": {"label": "Model", "metadata": {"type": "APP"}},
                },
                "edges": [
                    {"source": SALES_SECURE_QRI, "target": f"qri:app:sense://{MODEL}", "relation": "from"}
                ],
            },
        ),
    ]
    graph = lineage_graph_build(apps=apps, spaces=SPACES, datasets=[_sales_dataset()])
    (file_id,) = [node for node, data in graph.nodes.items() if data["type"] == "file"]
    assert file_id == "file:lib://finance:datafiles/extract/sales_0.qvd"
    assert graph.nodes[file_id]["label"] == "Sales_0.qvd"
    assert graph.edges[(f"app:{EXTRACT}", file_id)]["sources"] == [SOURCE_RELOAD, SOURCE_SCRIPT]
    assert graph.edges[(file_id, f"app:{MODEL}")]["sources"] == [SOURCE_API]


def test_a_data_file_no_source_mentions_is_a_node_without_edges_carrying_its_size_space_and_update():
    personal = _sales_dataset(dataset_id="e" * 24, spaceId=None, name="Old.qvd", technicalName="Old.qvd")
    others = [_sales_dataset(dataset_id="f" * 24, resourceSubType="connection_based_dataset", name="T")]
    graph = lineage_graph_build(apps=[], spaces=SPACES, datasets=[_sales_dataset(), personal, *others])
    assert sorted(graph.nodes) == [
        "file:lib://datafiles/old.qvd",  # a personal space's data file
        "file:lib://finance:datafiles/extract/sales_0.qvd",
    ]
    assert graph.edges == {}
    node = graph.nodes["file:lib://finance:datafiles/extract/sales_0.qvd"]
    assert (node["size"], node["space_id"], node["updated_at"], node["dataset_id"]) == (
        123456,
        "s-fin",
        "2026-11-20T08:00:00Z",
        "d" * 24,
    )


def test_a_relation_name_longer_than_its_column_is_cut_not_refused():
    source, target = "qri:db:x://a#t", "qri:db:x://a#u"
    lineage_graph = {
        "nodes": {source: {"label": "t"}, target: {"label": "u"}},
        "edges": [{"source": source, "target": target, "relation": "X" * 100}],
    }
    graph = lineage_graph_build(apps=[AppInput(guid=EXTRACT, lineage_graph=lineage_graph)])
    assert graph.edges[(source, target)]["relation"] == "x" * 32
