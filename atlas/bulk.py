"""The bulk write path: COPY into a staging table, then one set-based upsert and delete.

The one module outside migrations that writes raw SQL to tenant tables (conventions, rule
8), because the ORM cannot COPY: `bulk_create(update_conflicts=True)` sends every row as
parameters of multi-row INSERTs and rewrites every conflicting row, changed or not.

Per table, inside the caller's transaction and under its RLS identity (`StagedUpsert`):
1. `COPY` the rows into a temporary table shaped like the target (`ON COMMIT DROP`; a
   temporary table has no policies, and `COPY FROM` refuses tables under RLS);
2. one `INSERT … SELECT … ON CONFLICT (key) DO UPDATE … WHERE (columns) IS DISTINCT FROM
   (EXCLUDED.columns)`: new rows are inserted, changed rows updated, and unchanged rows not
   touched at all — no dead tuple, no WAL, no index churn for them. The target's INSERT and
   UPDATE policies check every row written, as for any INSERT; the last copy of a key
   listed twice wins (`DISTINCT ON`, skipped when the caller knows keys are unique);
3. optionally one `DELETE` of the scope's rows whose key was not staged (what vanished),
   as a hash anti-join, and only when the scope held rows before.

`staged_update` sets a few columns of existing rows the same way (`UPDATE … FROM` a staged
`COPY`, only where they differ).

Values are what the ORM would write: each field's `get_db_prep_save`, except plain text,
numbers and booleans of fields that prepare them the plain way (written as they are) and
JSON (by orjson, far faster than the json module; the ORM's way for what orjson refuses).
"""

import itertools
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import orjson
from django.db import connection, models
from psycopg import sql


@dataclass
class BulkWrite:
    """What one staged upsert did."""

    staged: int = 0  # rows copied in (before duplicates were dropped)
    written: int = 0  # rows inserted or updated: the unchanged ones are not counted
    deleted: int = 0
    seconds: float = 0.0  # spent in add() and apply(): making the rows, COPY, upsert, delete


# Values the ORM would write unchanged, by field type: text, whole numbers (not booleans,
# which `int` would let through as 't'), booleans and NULL. Anything else (JSON, dates, an
# unexpected type) goes through the field's own `get_db_prep_save`, as the ORM would.
_WRITTEN_AS_IS = {
    "CharField": (str, type(None)),
    "TextField": (str, type(None)),
    "IntegerField": (int, type(None)),
    "BigIntegerField": (int, type(None)),
    "SmallIntegerField": (int, type(None)),
    "PositiveIntegerField": (int, type(None)),
    "PositiveSmallIntegerField": (int, type(None)),
    "PositiveBigIntegerField": (int, type(None)),
    "BooleanField": (bool, type(None)),
}


def _json_text(save):
    """A JSON field's value as the text COPY writes, by orjson: several times faster than the
    json module the ORM uses, which made half of a write's time on large payloads. What
    orjson refuses (an integer beyond 64 bits) goes the ORM's way."""

    def prepare(value, database):
        if value is None:
            return None
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
        except (orjson.JSONEncodeError, TypeError):
            return save(value, database)

    return prepare


def _preparer(field: models.Field):
    """How a value of `field` becomes what COPY writes: the field's own `get_db_prep_save`,
    or orjson for a JSON field that keeps the default encoder."""
    if isinstance(field, models.JSONField) and field.encoder is None:
        return _json_text(field.get_db_prep_save)
    return field.get_db_prep_save


_PREPARING = ("get_prep_value", "get_db_prep_value", "get_db_prep_save")


def _as_is(field: models.Field) -> tuple[type, ...]:
    """The value types `field` writes without preparing them (see _WRITTEN_AS_IS): none for
    a subclass that prepares values its own way (an encrypted text field reports itself as
    a TextField, and must still encrypt)."""
    target = field.target_field if field.is_relation else field  # a foreign key writes its target's
    kind = target.get_internal_type()
    base = getattr(models, kind, None)
    if base is None or any(getattr(type(target), name) is not getattr(base, name) for name in _PREPARING):
        return ()
    return _WRITTEN_AS_IS.get(kind, ())


class StagedUpsert:
    """Rows of `model` staged by `add()` (any number of times), then `apply()`-ed at once.

    `key`: the field names of the unique constraint rows conflict on (e.g. project, app_id);
    `update`: the fields an existing row takes from a staged one; `compare`: those whose
    change makes a row worth rewriting (default: `update`), so that a value that moves on
    every sync without meaning a change (a timestamp of the computation) is not a reason to
    write the row again.
    """

    def __init__(
        self,
        model: type[models.Model],
        *,
        key: tuple[str, ...],
        update: Iterable[str],
        compare: Iterable[str] | None = None,
    ):
        meta = model._meta
        self.model = model
        self.fields = [f for f in meta.concrete_fields if not f.primary_key]
        by_name = {f.name: f for f in self.fields}
        self.key = [by_name[name] for name in key]
        self.update = [by_name[name] for name in update]
        self.compare = [by_name[name] for name in (compare if compare is not None else update)]
        self.table = sql.Identifier(meta.db_table)
        self.stage = sql.Identifier(f"stage_{meta.db_table}")
        self.result = BulkWrite()
        self._created = False

    def _create(self, cursor) -> None:
        # With the order rows came in (numbered here, no sequence), so that the last copy of a
        # key listed twice wins.
        _stage_create(cursor, self.stage, self.table, self.fields, sql.SQL(", 0::bigint AS _staged_order"))
        self._created = True

    def add(self, rows: Iterable[models.Model | Mapping[str, object]]) -> int:
        """COPY rows into the staging table; returns how many. A row is a model instance or
        a mapping of field attnames to values (cheaper: no instance per row); a field it
        leaves out takes its default, as a new instance would."""
        started = time.perf_counter()
        count = 0
        with connection.cursor() as wrapper:
            if not self._created:
                self._create(wrapper)
            copy_sql = sql.SQL("COPY {} ({}, _staged_order) FROM STDIN").format(
                self.stage, _columns(self.fields)
            )
            order = self.result.staged
            database = wrapper.db  # the connection itself: `connection` is a per-access proxy
            prepare = [(f.attname, _preparer(f), _as_is(f)) for f in self.fields]
            defaults = {f.attname: f.get_default() for f in self.fields}
            # A callable default (dict, list, uuid4, now) is called for each row that leaves
            # its field out, as for each new instance.
            factories = [
                (f.attname, f.default) for f in self.fields if f.has_default() and callable(f.default)
            ]
            rows = iter(rows)
            first = next(rows, None)
            if isinstance(first, Mapping) and (unknown := first.keys() - defaults.keys()):
                # Checked before the COPY starts (rows of one builder: the first tells), so the
                # mistake is named and the transaction is left as it was.
                raise ValueError(f"{self.model.__name__} has no field {sorted(unknown)}")
            with wrapper.cursor.copy(copy_sql) as copy:
                write = copy.write_row
                for row in itertools.chain(() if first is None else (first,), rows):
                    if isinstance(row, Mapping):
                        values = {**defaults, **row}
                        for name, factory in factories:
                            if name not in row:
                                values[name] = factory()
                    else:
                        values = {n: getattr(row, n) for n, *_ in prepare}
                    count += 1
                    write(
                        [
                            *(
                                value if type(value) in as_is else save(value, database)
                                for name, save, as_is in prepare
                                for value in (values[name],)
                            ),
                            order + count,
                        ]
                    )
        self.result.staged += count
        self.result.seconds += time.perf_counter() - started
        return count

    def apply(
        self, *, delete_scope: dict | None = None, keep: Iterable[tuple] = (), unique: bool = False
    ) -> BulkWrite:
        """Upsert the staged rows; with `delete_scope` (column → value, e.g. the project),
        also delete that scope's rows whose key was not staged, except keys in `keep`.

        `unique`: the caller knows no key was staged twice, so the rows need no sorting to
        keep each key's last copy.
        """
        started = time.perf_counter()
        with connection.cursor() as wrapper:
            if not self._created:
                self._create(wrapper)
            # Nothing can vanish from a scope that held no row before this write (a first
            # sync): one index probe instead of an anti-join over everything just written.
            had_rows = delete_scope is not None and self._scope_has_rows(wrapper, delete_scope)
            key, columns = _columns(self.key), _columns(self.fields)
            compare_old = _columns(self.compare, self.table)
            compare_new = _columns(self.compare, sql.SQL("EXCLUDED"))
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(f.column), sql.Identifier(f.column))
                for f in self.update
            )
            wrapper.execute(
                sql.SQL(
                    "INSERT INTO {table} ({columns}) {select} "
                    "ON CONFLICT ({key}) DO UPDATE SET {assignments} "
                    "WHERE ROW({compare_old}) IS DISTINCT FROM ROW({compare_new})"
                ).format(
                    table=self.table,
                    columns=columns,
                    select=(
                        sql.SQL("SELECT {columns} FROM {stage}")
                        if unique
                        else sql.SQL(
                            "SELECT DISTINCT ON ({key}) {columns} FROM {stage} "
                            "ORDER BY {key}, _staged_order DESC"
                        )
                    ).format(columns=columns, stage=self.stage, key=key),
                    key=key,
                    stage=self.stage,
                    assignments=assignments,
                    compare_old=compare_old,
                    compare_new=compare_new,
                )
            )
            self.result.written += max(wrapper.rowcount, 0)
            if had_rows:
                self.result.deleted += self._delete_vanished(wrapper, delete_scope, list(keep))
        self.result.seconds += time.perf_counter() - started
        return self.result

    def _scope_where(self, scope: dict) -> tuple[sql.Composed, list]:
        by_name = {f.name: f for f in self.fields}
        fields = [by_name[name] for name in scope]
        where = sql.SQL(" AND ").join(sql.SQL("t.{} = %s").format(sql.Identifier(f.column)) for f in fields)
        return where, [scope[f.name] for f in fields]

    def _scope_has_rows(self, wrapper, scope: dict) -> bool:
        where, params = self._scope_where(scope)
        wrapper.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {} AS t WHERE {})").format(self.table, where), params
        )
        return wrapper.fetchone()[0]

    def _delete_vanished(self, wrapper, scope: dict, keep: list[tuple]) -> int:
        scope_sql, params = self._scope_where(scope)
        staged = sql.SQL(" AND ").join(
            sql.SQL("s.{column} = t.{column}").format(column=sql.Identifier(f.column)) for f in self.key
        )
        keep_sql = sql.SQL("")
        free = [f for f in self.key if f.name not in scope]
        if keep and len(free) == 1:  # keys kept besides those staged (e.g. carried-over scripts)
            keep_sql = sql.SQL(" AND NOT (t.{} = ANY(%s))").format(sql.Identifier(free[0].column))
            params.append([values[0] if isinstance(values, tuple) else values for values in keep])
        # The target's statistics predate the rows this transaction just wrote (a first sync
        # finds an "empty" table): planned on them, the anti-join is a nested loop that
        # compares every stored row with every staged one, n² (0.6 s for 3,000 edges). A hash
        # (or merge) anti-join is right at any size, so nested loops are off for this one
        # statement.
        previous = _nestloop_off(wrapper)
        wrapper.execute(
            sql.SQL(
                "DELETE FROM {table} AS t WHERE {scope} "
                "AND NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE {staged}){keep}"
            ).format(table=self.table, scope=scope_sql, stage=self.stage, staged=staged, keep=keep_sql),
            params,
        )
        deleted = max(wrapper.rowcount, 0)
        _nestloop_restore(wrapper, previous)
        return deleted


def _columns(fields, qualifier: sql.Composable | None = None) -> sql.Composed:
    """The fields' columns as a SQL list, each qualified (`t.col`, `EXCLUDED.col`) if asked."""
    return sql.SQL(", ").join(
        sql.SQL("{}.{}").format(qualifier, sql.Identifier(f.column))
        if qualifier
        else sql.Identifier(f.column)
        for f in fields
    )


def _stage_create(cursor, stage, table, fields, extra: sql.Composable | None = None) -> None:
    """A temporary table with `table`'s `fields` (and `extra` columns), dropped at commit.
    Dropped first: a second staged write of the table in the same transaction."""
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(stage))
    cursor.execute(
        sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {}{} FROM {} WITH NO DATA").format(
            stage, _columns(fields), extra or sql.SQL(""), table
        )
    )


def _nestloop_off(wrapper) -> str:
    """Nested loops off for the next statement; returns the setting it had."""
    wrapper.execute("SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true)")
    return wrapper.fetchone()[0]


def _nestloop_restore(wrapper, previous: str) -> None:
    # Back to what it was, for the rest of the transaction (whatever a caller had set). A
    # statement that fails in between rolls the setting back with its transaction.
    wrapper.execute("SELECT set_config('enable_nestloop', %s, true)", [previous])


def staged_update(model: type[models.Model], *, key: tuple[str, ...], fields: tuple[str, ...], rows) -> int:
    """Set `fields` of existing rows from `rows` (mappings of field names to values, `key`
    naming the row), writing only the rows where one of them differs; returns how many.

    The rows are `COPY`-ed into a temporary table, then one `UPDATE … FROM` it joins on the
    key (a hash join: the target's statistics may predate this transaction's rows, as for
    the delete in `StagedUpsert`) with `WHERE (fields) IS DISTINCT FROM (staged)`. For
    columns computed after a bulk write (the apps' lineage summary): a rebuild to the same
    result writes nothing.
    """
    meta = model._meta
    by_name = {f.name: f for f in meta.concrete_fields}
    keys, values = [by_name[name] for name in key], [by_name[name] for name in fields]
    table, stage = sql.Identifier(meta.db_table), sql.Identifier(f"update_{meta.db_table}")

    # Read first: the rows may come from a query on this connection, which is busy during
    # the COPY (a generator reading a server-side cursor inside it would wait forever).
    rows = list(rows)
    with connection.cursor() as wrapper:
        _stage_create(wrapper, stage, table, [*keys, *values])
        database = wrapper.db
        prepare = [(f.name, _preparer(f)) for f in (*keys, *values)]
        with wrapper.cursor.copy(
            sql.SQL("COPY {} ({}) FROM STDIN").format(stage, _columns([*keys, *values]))
        ) as copy:
            for row in rows:
                copy.write_row([save(row[name], database) for name, save in prepare])
        previous = _nestloop_off(wrapper)
        wrapper.execute(
            sql.SQL(
                "UPDATE {table} AS t SET {assignments} FROM {stage} AS s "
                "WHERE {join} AND ROW({old}) IS DISTINCT FROM ROW({new})"
            ).format(
                table=table,
                stage=stage,
                assignments=sql.SQL(", ").join(
                    sql.SQL("{0} = s.{0}").format(sql.Identifier(f.column)) for f in values
                ),
                join=sql.SQL(" AND ").join(
                    sql.SQL("t.{0} = s.{0}").format(sql.Identifier(f.column)) for f in keys
                ),
                old=_columns(values, sql.Identifier("t")),
                new=_columns(values, sql.Identifier("s")),
            )
        )
        updated = max(wrapper.rowcount, 0)
        _nestloop_restore(wrapper, previous)
    return updated
