"""Builds the Mermaid ER diagram of the qlik_atlas tables from the models."""

from django.apps import apps
from django.db import models

from atlas.fields import EncryptedTextField

APP_LABELS = ("customers", "qlik", "lineage")

# Joins the schema document names that are not foreign keys: (left, right, cardinality, label).
LOGICAL_JOINS = (
    ("qlik_spaces", "qlik_apps", "||--o{", "logical: project_id + spaceId (fallback space_id)"),
    ("qlik_apps", "qlik_app_usage", "||--o|", "logical: (project_id, app_id)"),
    ("qlik_apps", "qlik_app_scripts", "||--o|", "logical: (project_id, app_id)"),
    ("qlik_apps", "lineage_nodes", "||--o|", "logical: project_id + app_id"),
    ("lineage_nodes", "lineage_edges", "||--o{", "logical: project_id + source/target = node_id"),
)


def _column_type(field: models.Field) -> str:
    internal = field.get_internal_type()
    return {
        "BigAutoField": "bigint",
        "AutoField": "integer",
        "ForeignKey": "bigint",
        "CharField": "varchar",
        "TextField": "text",
        "URLField": "varchar",
        "EmailField": "varchar",
        "JSONField": "jsonb",
        "DateTimeField": "timestamptz",
        "BooleanField": "boolean",
        "IntegerField": "integer",
        "PositiveIntegerField": "integer",
    }.get(internal, internal)


def _unique_columns(model) -> set[str]:
    columns = set()
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            columns.update(model._meta.get_field(name).column for name in constraint.fields)
    return columns


def schema_diagram() -> str:
    """The diagram as a Markdown document (what docs/schema.md holds)."""
    lines = ["```mermaid", "erDiagram"]
    relations = []
    for label in APP_LABELS:
        for model in apps.get_app_config(label).get_models():
            table = model._meta.db_table
            unique = _unique_columns(model)
            lines.append(f"    {table} {{")
            for field in model._meta.concrete_fields:
                keys = []
                if field.primary_key:
                    keys.append("PK")
                if field.is_relation:
                    keys.append("FK")
                    relations.append(
                        f"    {field.related_model._meta.db_table} ||--o{{ {table} : {field.column}"
                    )
                if field.column in unique or (field.unique and not field.primary_key):
                    keys.append("UK")
                key = f" {','.join(keys)}" if keys else ""
                note = ' "MultiFernet ciphertext"' if isinstance(field, EncryptedTextField) else ""
                column = field.column.lstrip("_")  # Mermaid names cannot start with "_"
                lines.append(f"        {_column_type(field)} {column}{key}{note}")
            lines.append("    }")
    lines.extend(relations)
    lines.extend(f'    {left} {card} {right} : "{text}"' for left, right, card, text in LOGICAL_JOINS)
    lines.append("```")
    header = (
        "# qlik_atlas schema\n\n"
        "Generated from the models by `manage.py schema_diagram --write` (`make schema-diagram`);\n"
        "a test fails when this file is stale. PK = surrogate primary key, FK = enforced foreign\n"
        "key, UK = the schema document's natural key (a named NOT NULL unique constraint,\n"
        "`project_id` leading). Lines labelled `logical` are joins the document describes that\n"
        "are not foreign keys. `_artifactFileName` is shown without its leading underscore.\n\n"
    )
    return header + "\n".join(lines) + "\n"
