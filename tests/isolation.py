"""The isolation check shared by the RLS tests: which of another tenant's rows can I see?"""

from tests.factories import TENANT_MODELS


def foreign_rows_visible(cursor, other_rows: dict) -> dict[str, int]:
    """Count, per table, the given rows of another tenant that the identity in force sees.

    `other_rows` maps a model to one of its instances. Runs plain SQL on `cursor` so the
    same check works on Django's connection and on a raw psycopg connection.
    """
    visible = {}
    for model in TENANT_MODELS:
        table, pk = model._meta.db_table, model._meta.pk.column
        cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{pk}" = %s', [other_rows[model].pk])
        visible[table] = cursor.fetchone()[0]
    return visible
