"""Storing a lineage graph keeps the apps' summary columns true."""

import pytest
from django.utils import timezone

from customers.services import customer_create, project_create
from lineage.services import lineage_graph_replace
from qlik.models import QlikApp
from qlik.services import QlikSnapshot, qlik_snapshot_replace


def test_replacing_the_graph_updates_every_apps_lineage_columns(as_system):
    project = project_create(customer=customer_create(name="C", tenant_url="https://c.example.com"), name="P")
    qlik_snapshot_replace(
        project=project,
        snapshot=QlikSnapshot(
            apps=[{"item": {"resourceId": guid}} for guid in ("extract", "dash", "orphan")]
        ),
    )
    lineage_graph_replace(
        project=project,
        nodes=[
            {"id": "app:extract", "type": "app", "app_id": "extract"},
            {"id": "app:dash", "type": "app", "app_id": "dash"},
            {"id": "file:orders.qvd", "type": "file"},
            {"id": "table:dwh:orders", "type": "table"},
        ],
        edges=[
            {"source": "table:dwh:orders", "target": "app:extract", "relation": "loads"},
            {"source": "app:extract", "target": "file:orders.qvd", "relation": "stores"},
            {"source": "file:orders.qvd", "target": "app:dash", "relation": "loads"},
        ],
    )
    summary = {
        app.app_id: (app.rootNodeId, app.nodesCount, app.edgesCount, app.lineageFetched, app.lineageSuccess)
        for app in QlikApp.objects.filter(project=project)
    }
    assert summary == {
        "extract": ("app:extract", 3, 2, True, True),
        "dash": ("app:dash", 2, 1, True, True),
        "orphan": ("", 0, 0, True, False),
    }


def test_an_app_that_stores_and_loads_back_one_qvd_counts_it_as_one_neighbour(as_system):
    project = project_create(customer=customer_create(name="C", tenant_url="https://c.example.com"), name="P")
    qlik_snapshot_replace(project=project, snapshot=QlikSnapshot(apps=[{"item": {"resourceId": "Loop"}}]))
    lineage_graph_replace(
        project=project,
        nodes=[
            {"id": "app:loop", "type": "app", "app_id": "loop"},
            {"id": "file:cache.qvd", "type": "file"},
            {"id": "table:dwh:orders", "type": "table"},
            {"id": "unresolved:loop:3:x", "type": "unresolved"},
        ],
        edges=[
            {"source": "table:dwh:orders", "target": "app:loop", "relation": "loads"},
            {"source": "app:loop", "target": "file:cache.qvd", "relation": "stores"},
            {"source": "file:cache.qvd", "target": "app:loop", "relation": "loads"},
            {"source": "unresolved:loop:3:x", "target": "app:loop", "relation": "unresolved"},
        ],
        fetched={"loop"},
    )
    app = QlikApp.objects.get(project=project)
    assert (app.rootNodeId, app.edgesCount, app.nodesCount) == ("app:loop", 4, 4)
    assert (app.lineageFetched, app.lineageSuccess) == (True, False)


def test_a_tenant_with_the_lineage_api_off_still_gets_its_graph_from_scripts_and_reloads(
    db, system_user, fast_client_settings
):
    from atlas.rls import acting_as
    from lineage.models import LineageEdge
    from qlik.fake_tenant import FakeEstate, FakeQlikTenant
    from qlik.services import qlik_project_sync
    from tests.qlik.conftest import FAKE_KEY

    with FakeQlikTenant(FakeEstate(seed=5, apps=8), api_key=FAKE_KEY) as tenant:
        tenant.switches.lineage_api = False
        with acting_as(system_user):
            project = project_create(
                customer=customer_create(name="Off", tenant_url=tenant.url, api_key=FAKE_KEY), name="P"
            )
        run = qlik_project_sync(project=project, actor=system_user)
        assert run.status == "succeeded", run.error
        # Every reloaded app's last reload is listed, so its reload metadata is asked instead;
        # an app never reloaded has no lineage to ask for.
        assert tenant.requests["apps/{id}/reloads/metadata/{id}"] == sum(
            1 for n in range(8) if tenant.estate.app_reloads(n)
        )
        assert tenant.requests["lineage-graphs/nodes/{qri}"] == 0
    with acting_as(system_user):
        sources = {
            s
            for data in LineageEdge.objects.filter(project=project).values_list("data", flat=True)
            for s in data["sources"]
        }
        model = QlikApp.objects.get(project=project, app_id=tenant.estate.app_guid(1))
    assert sources == {"script", "reload_metadata"}
    assert (model.lineageFetched, model.lineageSuccess, model.edgesCount > 0) == (True, True, True)


def test_an_offline_import_builds_lineage_from_scripts_following_known_includes(db, system_user, tmp_path):
    import json

    from atlas.rls import acting_as
    from lineage.models import LineageEdge, LineageNode
    from qlik.services import qlik_artifacts_import

    guid = "7fc4d85c-0e07-4160-90a9-c2ca4a45fd81"
    (tmp_path / "items.json").write_text(json.dumps([{"resourceId": guid, "name": "Client-managed app"}]))
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / f"{guid}.qvs").write_text(
        "$(Must_Include=lib://Scripts/common.qvs);\nLOAD * FROM [lib://Data/orders.qvd] (qvd);"
    )
    (tmp_path / "includes" / "Scripts").mkdir(parents=True)
    (tmp_path / "includes" / "Scripts" / "common.qvs").write_text(
        "LOAD * FROM [lib://Data/calendar.qvd] (qvd);"
    )
    with acting_as(system_user):
        project = project_create(
            customer=customer_create(name="Offline", tenant_url="https://o.example.com"), name="P"
        )
    run = qlik_artifacts_import(project=project, directory=str(tmp_path), actor=system_user)
    assert run.status == "succeeded", run.error
    with acting_as(system_user):
        sources = set(
            LineageEdge.objects.filter(project=project, target=f"app:{guid}").values_list("source", flat=True)
        )
        unresolved = LineageNode.objects.filter(project=project, type="unresolved").count()
    assert sources == {"file:lib://data/orders.qvd", "file:lib://data/calendar.qvd"}
    assert unresolved == 0


def test_a_resync_keeps_the_graph_unless_what_it_is_built_from_changed(system_user, estate_project):
    from django.db import connection

    from atlas.rls import acting_as
    from lineage.models import LineageNode
    from lineage.services import lineage_inputs_digest
    from qlik.services import qlik_project_sync

    project, estate = estate_project

    def node_rows() -> set[int]:
        with acting_as(system_user):
            return set(LineageNode.objects.filter(project=project).values_list("row_id", flat=True))

    built = node_rows()
    assert len(built) > 12
    estate.touched_apps[1] = timezone.now()  # refetched, but its script and sources are the same
    kept = qlik_project_sync(project=project, actor=system_user)
    assert kept.status == "succeeded" and kept.apps_fetched == 1
    assert "Lineage graph kept" in kept.notes
    assert node_rows() == built and kept.counts["lineage_nodes"] == len(built)

    def app_versions() -> dict[str, str]:
        """Each app row's xmin: the transaction that last wrote it."""
        with acting_as(system_user), connection.cursor() as cursor:
            cursor.execute("SELECT app_id, xmin::text FROM qlik_apps WHERE project_id = %s", [project.pk])
            return dict(cursor.fetchall())

    apps_before = app_versions()
    forced = qlik_project_sync(project=project, actor=system_user, full=True)  # --full rebuilds all
    assert "Lineage graph kept" not in forced.notes and forced.lineage_digest == kept.lineage_digest
    # Rebuilt to the same graph: every node row stays as it was (unchanged rows are not written),
    # and so does every app row, lineage summary columns included.
    assert node_rows() == built
    assert forced.rows_written == 0
    assert app_versions() == apps_before and len(apps_before) > 3

    estate.connections[0]["qName"] = "Renamed warehouse"
    renamed = qlik_project_sync(project=project, actor=system_user)
    assert "Lineage graph kept" not in renamed.notes and renamed.lineage_digest != kept.lineage_digest
    after = node_rows()
    assert after & built and after != built  # what the rename touched is new, the rest kept
    assert renamed.rows_written > 0
    with acting_as(system_user):
        assert LineageNode.objects.filter(project=project, label="Renamed warehouse").exists()
        digest = lineage_inputs_digest(project=project)
        assert digest == renamed.lineage_digest
        assert lineage_inputs_digest(project=project, includes={"lib://x/a.qvs": "LOAD 1;"}) != digest


GUID = "7fc4d85c-0e07-4160-90a9-c2ca4a45fd81"
MODEL_GUID = "8ac4d85c-0e07-4160-90a9-c2ca4a45fd82"


def _project(name: str = "P"):
    return project_create(customer=customer_create(name=name, tenant_url="https://c.example.com"), name="P")


def _datasets_add(project, *datasets: dict) -> None:
    """Data files as the sync stores them (qlik_datasets rows)."""
    from qlik.models import QlikDataset

    QlikDataset.objects.bulk_create(
        QlikDataset(project=project, data={"id": dataset["dataset_id"]}, **dataset) for dataset in datasets
    )


@pytest.mark.parametrize("length", [573, 10_000])
def test_a_rebuild_stores_references_of_any_length_a_tenant_can_produce(as_system, length):
    from lineage.models import LineageEdge, LineageNode
    from lineage.services import lineage_project_rebuild

    path = "lib://Data/" + "deep/" * (length // 5)
    path = path[: length - 4] + ".qvd"
    stored = "lib://Archive/" + "x" * length + ".qvd"
    table_qri = "qri:db:snowflake://" + "t" * length
    assert len(path) == length
    project = _project()
    qlik_snapshot_replace(
        project=project,
        snapshot=QlikSnapshot(
            apps=[
                {
                    "item": {"resourceId": GUID, "name": "Extract"},
                    "reloadMetadata": {
                        "reloadId": "r1",
                        "statements": [{"type": "Load", "connection": "Data", "label": path, "qri": "qri:f"}],
                    },
                    "lineageGraph": {
                        "nodes": {
                            table_qri: {"label": "T" * length, "metadata": {"type": "TABLE"}},
                            f"qri:app:sense://{GUID}": {"label": "Extract", "metadata": {"type": "APP"}},
                        },
                        "edges": [
                            {
                                "source": table_qri,
                                "target": f"qri:app:sense://{GUID}",
                                "relation": "r" * length,
                            }
                        ],
                    },
                }
            ],
            scripts={
                GUID: (
                    f"LIB CONNECT TO '{'C' * length}';\nSQL SELECT * FROM {'s' * length}.orders;\n"
                    f"LOAD * FROM [{path}] (qvd);\nSTORE T INTO [{stored}] (qvd);"
                )
            },
        ),
    )
    counts = lineage_project_rebuild(project=project)
    nodes = {node.label: node for node in LineageNode.objects.filter(project=project)}
    assert max(len(node.node_id) for node in nodes.values()) <= 500
    # the full text is kept where people read it; the id is the same from every source
    file_node = nodes[path[6:].lower()]
    assert file_node.data["path"] == path
    edge = LineageEdge.objects.get(project=project, source=file_node.node_id, target=f"app:{GUID}")
    assert sorted(edge.data["sources"]) == ["reload_metadata", "script"]
    assert LineageEdge.objects.filter(
        project=project, source=f"app:{GUID}", target=nodes[stored].node_id
    ).exists()
    assert "T" * length in nodes and f"s{'s' * (length - 1)}.orders" in nodes
    assert counts["lineage_nodes"] == len(nodes)


SPACE_ID = "5f0e1d2c3b4a596877665544"
SECURE_QRI = "qri:qdf:space://Zm9vYmFy#c2FsZXM"


def _sales_dataset(**changes) -> dict:
    from datetime import UTC, datetime

    return {
        "dataset_id": "d" * 24,
        "name": "Sales_0.qvd",
        "resourceSubType": "qix-df",
        "spaceId": SPACE_ID,
        "ownerId": "u1",
        "qri": f"qdf:qix-datafiles:tenant1:sid@{SPACE_ID}:Extract/Sales_0.qvd",
        "secureQri": SECURE_QRI,
        "technicalName": "Extract/Sales_0.qvd",
        "dataStoreType": "qix-datafiles",
        "size": 987_654,
        "updatedAt": datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        **changes,
    }


def _data_files_project():
    project = _project()
    qlik_snapshot_replace(
        project=project,
        snapshot=QlikSnapshot(
            spaces=[{"id": SPACE_ID, "name": "Finance Shared", "type": "shared"}],
            apps=[
                {
                    "item": {"resourceId": GUID, "name": "Extract"},
                    "reloadMetadata": {
                        "reloadId": "r1",
                        "statements": [
                            {
                                "type": "Store",
                                "connection": "Finance Shared:DataFiles",
                                "label": "lib://Finance Shared:DataFiles/Extract/Sales_0.qvd",
                            }
                        ],
                    },
                },
                {
                    "item": {"resourceId": MODEL_GUID, "name": "Model"},
                    "lineageGraph": {
                        "nodes": {
                            SECURE_QRI: {"label": "Sales_0.qvd", "metadata": {"type": "DATASET"}},
                            f"qri:app:sense://{MODEL_GUID}": {"label": "Model", "metadata": {"type": "APP"}},
                        },
                        "edges": [
                            {
                                "source": SECURE_QRI,
                                "target": f"qri:app:sense://{MODEL_GUID}",
                                "relation": "from",
                            }
                        ],
                    },
                },
            ],
            scripts={GUID: "STORE Sales INTO [LIB://finance shared:DATAFILES\\Extract\\sales_0.qvd] (qvd);"},
        ),
    )
    orphan = _sales_dataset(
        dataset_id="e" * 24,
        name="Forgotten.csv",
        technicalName="Forgotten.csv",
        secureQri="qri:qdf:space://x#y",
    )
    _datasets_add(project, _sales_dataset(), orphan)
    return project


def test_a_data_file_named_by_a_script_reload_metadata_and_the_lineage_api_is_one_named_node(as_system):
    from lineage.models import LineageEdge, LineageNode
    from lineage.services import lineage_project_rebuild

    project = _data_files_project()
    lineage_project_rebuild(project=project)
    node = LineageNode.objects.get(project=project, label="Sales_0.qvd")
    assert node.node_id == "file:lib://finance shared:datafiles/extract/sales_0.qvd"
    assert LineageNode.objects.filter(project=project, type="file").count() == 2  # and the orphan
    written = LineageEdge.objects.get(project=project, source=f"app:{GUID}", target=node.node_id)
    assert sorted(written.data["sources"]) == ["reload_metadata", "script"]
    read = LineageEdge.objects.get(project=project, source=node.node_id, target=f"app:{MODEL_GUID}")
    assert read.data["sources"] == ["lineage_api"]
    assert (node.data["size"], node.data["space_id"], node.data["dataset_id"]) == (
        987_654,
        SPACE_ID,
        "d" * 24,
    )
    assert node.data["updated_at"].startswith("2026-11-20T08:00:00")


def test_a_data_file_no_app_reads_or_writes_is_a_node_without_edges(as_system):
    from django.db.models import Q

    from lineage.models import LineageEdge, LineageNode
    from lineage.services import lineage_project_rebuild

    project = _data_files_project()
    lineage_project_rebuild(project=project)
    orphan = LineageNode.objects.get(project=project, label="Forgotten.csv")
    assert orphan.node_id == "file:lib://finance shared:datafiles/forgotten.csv"
    assert orphan.data["size"] == 987_654
    touching = Q(source=orphan.node_id) | Q(target=orphan.node_id)
    assert not LineageEdge.objects.filter(touching, project=project).exists()


def test_a_new_data_file_or_a_renamed_space_changes_what_the_graph_is_built_from(as_system):
    from lineage.services import lineage_inputs_digest
    from qlik.models import QlikDataset, QlikSpace

    project = _data_files_project()
    before = lineage_inputs_digest(project=project)
    _datasets_add(project, _sales_dataset(dataset_id="f" * 24, name="New.qvd", technicalName="New.qvd"))
    with_new_file = lineage_inputs_digest(project=project)
    assert with_new_file != before
    QlikDataset.objects.filter(project=project, dataset_id="f" * 24).update(size=1)
    assert lineage_inputs_digest(project=project) != with_new_file
    resized = lineage_inputs_digest(project=project)
    QlikSpace.objects.filter(project=project).update(spaceName="Finance")
    assert lineage_inputs_digest(project=project) != resized


def test_a_label_too_long_for_full_text_search_is_cut_and_kept_whole_in_data(as_system):
    from lineage.models import LineageNode
    from lineage.services import MAX_LABEL

    label = " ".join(f"w{n}" for n in range(250_000))  # a tsvector over 1 MB: refused whole
    project = _project()
    lineage_graph_replace(project=project, nodes=[{"id": "qri:x", "type": "table", "label": label}], edges=[])
    node = LineageNode.objects.get(project=project)
    assert node.label == label[:MAX_LABEL] and node.data["label"] == label
