"""The webhook path's statements, built once per model, shape and database.

The ORM compiles every query each time it runs it, and on a webhook that costs more than
running the statement (a whole webhook is about a millisecond of work). The few statements
every webhook makes (read the session, update it if unchanged, insert its steps and
messages) are therefore built here once and cached. Values go through the same per-field
functions the ORM uses (`pre_save`, `get_db_prep_save`, the backend's and the field's
converters), so what is read and written here is what the ORM would read and write, on
SQLite and PostgreSQL alike; only values those functions would return unchanged skip them
(`_db_value`). No signals are sent: the models written here have no
receivers. Cached statements hold only SQL and functions that read the backend's settings,
so one thread's serve every thread's connection.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKey,
    IntegerField,
    Model,
    TextField,
)

M = TypeVar("M", bound=Model)

#: field classes whose prep returns a value of this type unchanged, on every backend (their
#: get_prep_value only converts other types): most values written are these
_AS_IS: dict[type, type] = {CharField: str, TextField: str, BooleanField: bool}
#: field classes whose prep returns None as None on every backend
_NONE_AS_IS = frozenset({CharField, TextField, BooleanField, DateTimeField, ForeignKey})


def _db_value(field: Any, value: Any, db: BaseDatabaseWrapper) -> Any:
    """field.get_db_prep_save(value, db), without its calls for a value it returns as is:
    a str for a text field, a bool for a boolean one, None where the column takes NULL as
    it is, and on SQLite an int for an integer field or a key to one (PostgreSQL's backend
    wraps ints in the column's type)."""
    kind = type(field)
    if _AS_IS.get(kind) is type(value) or (value is None and kind in _NONE_AS_IS):
        return value
    if type(value) is int and db.vendor == "sqlite" and _int_column(field):
        return value
    return field.get_db_prep_save(value, db)


@functools.cache
def _int_column(field: Any) -> bool:
    target = field.target_field if isinstance(field, ForeignKey) else field
    return isinstance(target, IntegerField)


#: what _run returns: the first row, every row, the number of rows changed
_ONE, _ALL, _COUNT = range(3)


def _run(db: BaseDatabaseWrapper, sql: str, params: Sequence[Any], result: int) -> Any:
    """Run one of the statements built here, on the driver's own cursor.

    Django's cursor wrapper would rewrite the placeholders of every statement (on SQLite)
    and wrap each cursor call; these statements are built once, in the driver's placeholder
    style. The rest of what Django does for a cursor is done here too: the connection's
    health check and opening, refusing a transaction that must roll back, and turning the
    driver's errors into Django's. When queries are logged (DEBUG, CaptureQueriesContext)
    or wrapped (`execute_wrapper`), the statement goes through Django's cursor to be seen.
    """
    if db.queries_logged or db.execute_wrappers:
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return _result(cursor, result)
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_no_broken_transaction()
    with db.wrap_database_errors:
        if db.vendor == "sqlite":
            cursor = db.connection.cursor()
            sql = _qmark(sql)
        else:
            cursor = db.create_cursor()
        try:
            cursor.execute(sql, params)
            return _result(cursor, result)
        finally:
            cursor.close()


def _result(cursor: Any, result: int) -> Any:
    if result == _ONE:
        return cursor.fetchone()
    if result == _ALL:
        return cursor.fetchall()
    return cursor.rowcount


@functools.lru_cache(maxsize=256)
def _qmark(sql: str) -> str:
    """SQLite's placeholders for a statement built here (which has no other `%`)."""
    return sql.replace("%s", "?")


def fetch_one(model: type[M], column: str, value: object) -> M | None:
    """The row whose (unique) `column` is `value`, as a model instance, or None."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, converters = _reader(model, column, db.alias)
    row = _run(db, sql, [value], _ONE)
    if row is None:
        return None
    values = list(row)
    for index, expression, functions in converters:
        converted = values[index]
        for function in functions:
            converted = function(converted, expression, db)
        values[index] = converted
    return model.from_db(db.alias, None, values)  # type: ignore[return-value]


@functools.cache
def _reader(model: type[Model], column: str, alias: str) -> tuple[str, list[Any]]:
    """SELECT every concrete column in model order; each column's converters."""
    db = connections[alias]
    meta, quote = model._meta, db.ops.quote_name
    columns = [field.get_col(meta.db_table) for field in meta.concrete_fields]
    sql = (
        f"SELECT {', '.join(quote(c.target.column) for c in columns)} FROM "
        f"{quote(meta.db_table)} WHERE {quote(meta.get_field(column).column)} = %s LIMIT 1"
    )
    converters = []
    for index, expression in enumerate(columns):
        functions = db.ops.get_db_converters(expression) + expression.get_db_converters(db)
        if functions:
            converters.append((index, expression, functions))
    return sql, converters


class Statement:
    """A hand-written query, built for each database from its quoting function once."""

    def __init__(self, build: Callable[[Callable[[str], str]], str]):
        self.build = build
        self.built: dict[str, str] = {}

    def sql(self, db: BaseDatabaseWrapper) -> str:
        if db.alias not in self.built:
            self.built[db.alias] = self.build(db.ops.quote_name)
        return self.built[db.alias]


def fetch_row(statement: Statement, *params: object) -> tuple[Any, ...] | None:
    """The first row of a hand-written query, as the database returned it."""
    db = connections[DEFAULT_DB_ALIAS]
    return _run(db, statement.sql(db), params, _ONE)


def insert(
    instances: Sequence[Model], *, conflict: tuple[str, ...] = (), update: tuple[str, ...] = ()
) -> None:
    """INSERT the instances (one model) in one statement and set their primary keys, as
    save() would (auto_now fields included). With `conflict` (the columns of a unique
    constraint), a row that exists has its `update` fields overwritten instead."""
    if not instances:
        return
    db = connections[DEFAULT_DB_ALIAS]
    model = type(instances[0])
    sql, fields = _inserter(model, len(instances), conflict, update, db.alias)
    params = []
    for instance in instances:
        for field in fields:
            params.append(_db_value(field, field.pre_save(instance, True), db))
    ids = _insert_returning(db, sql, params)
    for instance, pk in zip(instances, ids, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = db.alias


def insert_values(
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
) -> list[int]:
    """insert() for rows given as {attname: value}, with no model instance made: the
    primary keys, in order. A field a row leaves out gets its default. For models without
    auto_now fields (their pre_save would set them; this has no instance to call it on)."""
    if not rows:
        return []
    db = connections[DEFAULT_DB_ALIAS]
    if _has_auto_now(model):
        raise TypeError(f"{model.__name__} has auto_now fields: use insert()")
    sql, fields = _inserter(model, len(rows), conflict, update, db.alias)
    params = []
    for row in rows:
        for field in fields:
            value = row[field.attname] if field.attname in row else field.get_default()
            params.append(_db_value(field, value, db))
    return _insert_returning(db, sql, params)


@functools.cache
def _has_auto_now(model: type[Model]) -> bool:
    return any(
        getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        for field in model._meta.concrete_fields
    )


def _insert_returning(db: BaseDatabaseWrapper, sql: str, params: list[Any]) -> list[int]:
    return [row[0] for row in _run(db, sql, params, _ALL)]


@functools.cache
def _inserter(
    model: type[Model], rows: int, conflict: tuple[str, ...], update: tuple[str, ...], alias: str
) -> tuple[str, list[Any]]:
    db = connections[alias]
    meta, quote = model._meta, db.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * rows)}"
    )
    sql += _on_conflict(model, conflict, update, quote)
    return sql + f" RETURNING {quote(meta.pk.column)}", fields


def _on_conflict(
    model: type[Model], conflict: tuple[str, ...], update: tuple[str, ...], quote: Any
) -> str:
    """ON CONFLICT (the unique columns) DO UPDATE SET the `update` fields, or nothing."""
    if not conflict:
        return ""
    meta = model._meta
    keys = [quote(meta.get_field(name).column) for name in conflict]
    sets = [quote(meta.get_field(name).column) for name in update]
    return f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET " + ", ".join(
        f"{column} = EXCLUDED.{column}" for column in sets
    )


def update_if(instance: Model, fields: Sequence[str], expected: dict[str, object]) -> bool:
    """UPDATE the instance's `fields` (auto_now ones refreshed on it, as save() does) if its
    row still has the `expected` values. False, having written nothing, when it has not."""
    db = connections[DEFAULT_DB_ALIAS]
    meta = instance._meta
    where = (meta.pk.name, *expected)
    sql, columns, checks = _updater(type(instance), tuple(fields), where, (), db.alias)
    params = [_db_value(column, column.pre_save(instance, False), db) for column in columns]
    checked = (instance.pk, *expected.values())
    params += [_db_value(check, value, db) for check, value in zip(checks, checked, strict=True)]
    return _run(db, sql, params, _COUNT) == 1


def update_where(model: type[Model], values: dict[str, Any], where: dict[str, Any]) -> int:
    """UPDATE `values` ({field name: value}, auto_now fields included: nothing is set for
    you) on the rows whose fields equal `where` (None: IS NULL), in one statement, with
    no read. How many rows it changed."""
    db = connections[DEFAULT_DB_ALIAS]
    nulls = tuple(name for name, value in where.items() if value is None)
    sql, columns, checks = _updater(model, tuple(values), tuple(where), nulls, db.alias)
    params = [_db_value(column, values[column.name], db) for column in columns]
    params += [_db_value(check, where[check.name], db) for check in checks]
    return _run(db, sql, params, _COUNT)


@functools.cache
def _updater(
    model: type[Model],
    fields: tuple[str, ...],
    where: tuple[str, ...],
    nulls: tuple[str, ...],
    alias: str,
) -> tuple[str, list[Any], list[Any]]:
    """UPDATE `fields` WHERE each of `where` = %s (in order), and each of `nulls` IS NULL."""
    db = connections[alias]
    meta, quote = model._meta, db.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    checks = [meta.get_field(name) for name in where if name not in nulls]
    conditions = [f"{quote(check.column)} = %s" for check in checks]
    conditions += [f"{quote(meta.get_field(name).column)} IS NULL" for name in nulls]
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "
        + ", ".join(f"{quote(column.column)} = %s" for column in columns)
        + " WHERE "
        + " AND ".join(conditions)
    )
    return sql, columns, checks


def update_if_then_insert(
    instance: Model,
    fields: Sequence[str],
    expected: dict[str, object],
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
) -> bool:
    """update_if() and, only if it updated the row, insert_values() of `rows`, in one
    statement on PostgreSQL (a data-modifying WITH): one round trip and no BEGIN or COMMIT,
    the statement being its own transaction. False, having written nothing, when the row no
    longer has the `expected` values."""
    db = connections[DEFAULT_DB_ALIAS]
    assert db.vendor == "postgresql", "one statement for both needs PostgreSQL"
    meta = instance._meta
    where = (meta.pk.name, *expected)
    update_sql, columns, checks = _updater(type(instance), tuple(fields), where, (), db.alias)
    params = [_db_value(column, column.pre_save(instance, False), db) for column in columns]
    checked = (instance.pk, *expected.values())
    params += [_db_value(check, value, db) for check, value in zip(checks, checked, strict=True)]
    parts = [f"updated AS ({update_sql} RETURNING 1)"]
    if rows:
        insert_sql, inserted = _conditional_inserter(model, len(rows), conflict, update, db.alias)
        parts.append(f"inserted AS ({insert_sql})")
        for row in rows:
            for field in inserted:
                value = row[field.attname] if field.attname in row else field.get_default()
                params.append(_db_value(field, value, db))
    sql = "WITH " + ", ".join(parts) + " SELECT COUNT(*) FROM updated"
    return _run(db, sql, params, _ONE)[0] == 1


@functools.cache
def _conditional_inserter(
    model: type[Model], rows: int, conflict: tuple[str, ...], update: tuple[str, ...], alias: str
) -> tuple[str, list[Any]]:
    """INSERT the rows of a VALUES list joined with `updated`, so only when that CTE
    updated a row, in their order. The VALUES are cast to their columns' types (a literal
    in a VALUES list is otherwise text)."""
    db = connections[alias]
    meta, quote = model._meta, db.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    columns = ", ".join(quote(f.column) for f in fields)
    typed = "(" + ", ".join(f"CAST(%s AS {f.db_type(db)})" for f in fields) + ")"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {columns} FROM "
        f"(VALUES {', '.join([typed] * rows)}) AS v ({columns}) CROSS JOIN updated"
    )
    return sql + _on_conflict(model, conflict, update, quote), fields
