"""The committed ER diagram matches the models."""

from django.conf import settings

from atlas.schema_diagram import schema_diagram


def test_the_committed_schema_diagram_is_current():
    committed = (settings.BASE_DIR / "docs" / "schema.md").read_text()
    assert committed == schema_diagram(), "docs/schema.md is stale: run `make schema-diagram`"


def test_the_diagram_names_every_table_with_its_documented_columns():
    diagram = schema_diagram()
    for table in ("users", "customers", "projects", "user_customer_access", "qlik_apps", "lineage_edges"):
        assert f"    {table} {{" in diagram
    assert "varchar spaceId" in diagram
    assert "integer usageSheetViews" in diagram
    assert "customers ||--o{ projects : customer_id" in diagram
