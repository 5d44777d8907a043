"""The webhook path's statements, written out in SQL and run through Django's cursor.

Every webhook makes a handful of statements: read the session, write it if nobody else
did meanwhile, insert the turn's steps (and, rarely, a message). Through the ORM each one
costs more than running it, because the ORM compiles a query every time: reading a session
with `filter(call_sid=...).first()` takes about 600 us of CPU, the same SELECT through
`connection.cursor()` about 150 us, on PostgreSQL and SQLite alike. So these statements
are SQL, built once per model and database from the model's own table and column names:

- they run through Django's cursor (`connection.cursor()`), so the connection's health
  check, the transaction in progress, Django's error classes, query logging (DEBUG,
  CaptureQueriesContext) and `execute_wrappers` apply as to any ORM query;
- values written go through each field's `pre_save` and `get_db_prep_save` (`prepared`),
  values read through the field's decoder (`_decoder`): what the ORM writes and reads, on
  SQLite and PostgreSQL;
- the rows of a multi-row insert travel as one JSON document (`jsonb_to_recordset` on
  PostgreSQL, `json_each` on SQLite): the statement's text and its number of parameters
  are the same whatever the number of rows, so the driver's statement cache and the
  server's prepared statement (settings: DB_PREPARE_THRESHOLD) are reused.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKey,
    IntegerField,
    JSONField,
    Model,
    TextField,
)

M = TypeVar("M", bound=Model)


class Statement:
    """A hand-written query, built for each database from its quoting function once."""

    def __init__(self, build: Callable[[Callable[[str], str]], str]):
        self.build = build
        self.built: dict[str, str] = {}

    def sql(self) -> str:
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.vendor not in self.built:
            self.built[connection.vendor] = self.build(connection.ops.quote_name)
        return self.built[connection.vendor]


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run `sql` (a query, or a statement with RETURNING) on Django's cursor: its rows."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _count(sql: str, params: Sequence[Any]) -> int:
    """Run `sql` (an UPDATE) on Django's cursor: how many rows it changed."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetch_row(statement: Statement, *params: object) -> tuple[Any, ...] | None:
    """The first row of a hand-written query, as the database returned it."""
    rows = _rows(statement.sql(), params)
    return rows[0] if rows else None


# --- reading a row as a model instance -----------------------------------------------------
def fetch_one(model: type[M], column: str, value: object) -> M | None:
    """The row whose (unique) `column` is `value`, as a model instance, or None."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, names, decoders = _reader(model, column, connection.vendor)
    rows = _rows(sql, [value])
    if not rows:
        return None
    values = [decode(v) if decode else v for decode, v in zip(decoders, rows[0], strict=True)]
    return model.from_db(connection.alias, names, values)


@functools.cache
def _reader(model: type[Model], column: str, vendor: str) -> tuple[str, list[str], list[Any]]:
    """SELECT every concrete column WHERE `column` = %s; the attnames; each one's decoder."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta, quote = model._meta, connection.ops.quote_name
    fields = meta.concrete_fields
    sql = (
        f"SELECT {', '.join(quote(f.column) for f in fields)} FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.get_field(column).column)} = %s LIMIT 1"
    )
    return sql, [f.attname for f in fields], [_decoder(f) for f in fields]


def _decoder(field: Any) -> Callable[[Any], Any] | None:
    """What turns a column's value, as the driver returns it, into the field's: JSON text
    decoded (both databases return it as text to Django), SQLite's text datetimes and
    integer booleans converted. None where the driver's value is the field's. (What the
    converters read of their connection, its time zone, is the same on every thread.)"""
    connection = connections[DEFAULT_DB_ALIAS]
    if isinstance(field, JSONField):
        return functools.partial(field.from_db_value, expression=None, connection=connection)
    if isinstance(field, DateTimeField) and connection.vendor == "sqlite":
        return functools.partial(
            connection.ops.convert_datetimefield_value, expression=None, connection=connection
        )
    if isinstance(field, BooleanField) and connection.vendor == "sqlite":
        return bool
    return None


# --- writing ---------------------------------------------------------------------------------
def prepared(field: Any, value: Any, db: BaseDatabaseWrapper) -> Any:
    """What the field writes for `value`: field.get_db_prep_save(value, db), but for a
    value it would return as it is (`_kept`), which most of what a turn writes is."""
    if value is None and not isinstance(field, JSONField):
        return None
    if type(value) is _kept(field, db.vendor):
        return value
    return field.get_db_prep_save(value, db)


@functools.cache
def _kept(field: Any, vendor: str) -> type | None:
    """The type of value the field's get_db_prep_save returns unchanged: a str for a text
    field, a bool for a boolean one, on SQLite an int for an integer field or a key to one
    (PostgreSQL's backend wraps an int in its column's type)."""
    if isinstance(field, (CharField, TextField)):
        return str
    if isinstance(field, BooleanField):
        return bool
    target = field.target_field if isinstance(field, ForeignKey) else field
    if vendor == "sqlite" and isinstance(target, IntegerField):
        return int
    return None


def _columns(model: type[Model]) -> list[Any]:
    """The fields an INSERT writes: every concrete one but the auto primary key."""
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def insert(
    instances: Sequence[Model], *, conflict: tuple[str, ...] = (), update: tuple[str, ...] = ()
) -> None:
    """INSERT the instances (one model) in one statement and set their primary keys, as
    save() would (auto_now fields included). With `conflict` (the columns of a unique
    constraint), a row that exists has its `update` fields overwritten instead."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not instances:
        return
    model = type(instances[0])
    fields = _columns(model)
    params = [
        prepared(field, field.pre_save(instance, True), connection)
        for instance in instances
        for field in fields
    ]
    rows = _rows(_inserter(model, len(instances), conflict, update, connection.vendor), params)
    for instance, (pk,) in zip(instances, rows, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = connection.alias


@functools.cache
def _inserter(
    model: type[Model], rows: int, conflict: tuple[str, ...], update: tuple[str, ...], vendor: str
) -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    meta, quote = model._meta, connection.ops.quote_name
    fields = _columns(model)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([row] * rows)}"
        f"{_on_conflict(model, conflict, update)} RETURNING {quote(meta.pk.column)}"
    )


def _on_conflict(model: type[Model], conflict: tuple[str, ...], update: tuple[str, ...]) -> str:
    """ON CONFLICT (the unique columns) DO UPDATE SET the `update` fields, or nothing."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not conflict:
        return ""
    meta, quote = model._meta, connection.ops.quote_name
    keys = [quote(meta.get_field(name).column) for name in conflict]
    sets = [quote(meta.get_field(name).column) for name in update]
    return f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET " + ", ".join(
        f"{column} = excluded.{column}" for column in sets
    )


def insert_values(
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
) -> list[int]:
    """Insert rows given as {attname: value} (no model instance made), in one statement
    whatever their number: the primary keys, in the rows' order (RETURNING gives them in
    the order the rows are inserted, which bulk_create relies on too). A field a row
    leaves out gets its default. For models without auto_now or JSON fields: there is no
    instance to call pre_save on, and the rows travel as JSON."""
    connection = connections[DEFAULT_DB_ALIAS]
    if not rows:
        return []
    sql = _rows_inserter(model, conflict, update, connection.vendor)
    found = _rows(sql, [rows_document(model, rows)])
    return [pk for (pk,) in found]


def rows_document(model: type[Model], rows: Sequence[dict[str, Any]]) -> str:
    """The rows as the JSON array the row inserter reads: each field's database value
    (`prepared`; a datetime as ISO 8601 text) under its column."""
    connection = connections[DEFAULT_DB_ALIAS]
    plan = _document_plan(model, connection.vendor)
    document = []
    for row in rows:
        item: dict[str, Any] = {}
        for attname, column, field, kept in plan:
            value = row[attname] if attname in row else field.get_default()
            if value is not None and type(value) is not kept:  # as prepared() (no JSON here)
                value = field.get_db_prep_save(value, connection)
                if isinstance(value, datetime):
                    value = value.isoformat()
            item[column] = value
        document.append(item)
    return json.dumps(document, separators=(",", ":"))


@functools.cache
def _document_plan(model: type[Model], vendor: str) -> list[tuple[str, str, Any, type | None]]:
    """(attname, column, field, the type it keeps) of each column a document carries."""
    return [(f.attname, f.column, f, _kept(f, vendor)) for f in _checked_columns(model)]


@functools.cache
def _checked_columns(model: type[Model]) -> list[Any]:
    fields = _columns(model)
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            why = "is set when saved (auto_now)"
        elif isinstance(field, JSONField):
            why = "is a JSON field"
        else:
            continue
        raise TypeError(
            f"{model.__name__}.{field.name} {why}: write {model.__name__} with insert()"
        )
    return fields


@functools.cache
def _rows_inserter(
    model: type[Model], conflict: tuple[str, ...], update: tuple[str, ...], vendor: str
) -> str:
    """INSERT ... SELECT the rows of a rows_document (the one parameter) RETURNING each
    row's key."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta, quote = model._meta, connection.ops.quote_name
    return (
        f"INSERT INTO {quote(meta.db_table)} ({_column_list(model)}) {_rows_select(model)}"
        f"{_on_conflict(model, conflict, update)} RETURNING {quote(meta.pk.column)}"
    )


def _column_list(model: type[Model]) -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    return ", ".join(connection.ops.quote_name(f.column) for f in _checked_columns(model))


def _rows_select(
    model: type[Model], joined: str = "", parent: tuple[str, str] | None = None
) -> str:
    """SELECT the rows of a rows_document (a %s parameter) as the model's columns, in the
    document's order. `joined`: a CTE (of one row or none) to CROSS JOIN; `parent`: (a
    field, a column of `joined`) to take that field's value from instead of the document."""
    connection = connections[DEFAULT_DB_ALIAS]
    quote, fields = connection.ops.quote_name, _checked_columns(model)
    join = f" CROSS JOIN {joined}" if joined else ""
    parent_field, parent_column = parent or ("", "")

    def value(field: Any, read: str) -> str:
        return f"{joined}.{parent_column}" if field.name == parent_field else read

    if connection.vendor == "postgresql":
        typed = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
        selected = ", ".join(value(f, f"r.{quote(f.column)}") for f in fields)
        # a function scan returns the array's elements in order
        return f"SELECT {selected} FROM jsonb_to_recordset(%s::jsonb) AS r ({typed}){join}"
    selected = ", ".join(value(f, f"json_extract(r.value, '$.{f.column}')") for f in fields)
    # ORDER BY the array index keeps the rows' order; WHERE true: SQLite's parser needs a
    # WHERE between INSERT ... SELECT and ON CONFLICT
    return f"SELECT {selected} FROM json_each(%s) AS r{join} WHERE true ORDER BY r.key"


def update_if(instance: Model, fields: Sequence[str], expected: dict[str, object]) -> bool:
    """UPDATE the instance's `fields` (auto_now ones refreshed on it, as save() does) if its
    row still has the `expected` values. False, having written nothing, when it has not."""
    sql, params = _update_if(instance, fields, expected)
    return _count(sql, params) == 1


def _update_if(
    instance: Model, fields: Sequence[str], expected: dict[str, object]
) -> tuple[str, list[Any]]:
    connection = connections[DEFAULT_DB_ALIAS]
    model, meta = type(instance), instance._meta
    where = {meta.pk.name: instance.pk, **expected}
    sql = _updater(model, tuple(fields), tuple(where), (), connection.vendor)
    params = [
        prepared(field, field.pre_save(instance, False), connection)
        for field in map(meta.get_field, fields)
    ]
    params += [prepared(meta.get_field(name), value, connection) for name, value in where.items()]
    return sql, params


def update_where(model: type[Model], values: dict[str, Any], where: dict[str, Any]) -> int:
    """UPDATE `values` ({field name: value}, auto_now fields included: nothing is set for
    you) on the rows whose fields equal `where` (None: IS NULL), in one statement, with
    no read. How many rows it changed."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    nulls = tuple(name for name, value in where.items() if value is None)
    sql = _updater(model, tuple(values), tuple(where), nulls, connection.vendor)
    params = [prepared(meta.get_field(name), value, connection) for name, value in values.items()]
    params += [
        prepared(meta.get_field(name), v, connection) for name, v in where.items() if v is not None
    ]
    return _count(sql, params)


@functools.cache
def _updater(
    model: type[Model],
    fields: tuple[str, ...],
    where: tuple[str, ...],
    nulls: tuple[str, ...],
    vendor: str,
) -> str:
    """UPDATE `fields` WHERE each of `where` = %s (in order), and each of `nulls` IS NULL."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta, quote = model._meta, connection.ops.quote_name
    column = {name: quote(meta.get_field(name).column) for name in (*fields, *where)}
    conditions = [
        f"{column[name]} IS NULL" if name in nulls else f"{column[name]} = %s" for name in where
    ]
    # the NULL checks last, so the parameters follow `where` with the NULLs left out
    conditions.sort(key=lambda condition: condition.endswith("IS NULL"))
    return (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{column[n]} = %s' for n in fields)} "
        f"WHERE {' AND '.join(conditions)}"
    )


# --- PostgreSQL: a turn's writes in one statement ---------------------------------------------
@dataclass(frozen=True)
class Dependent:
    """A row inserted with the rows of update_if_then_insert(), referring to one of them:
    the instance's `field` is set to the key of the inserted row whose `by` field equals
    `value` (NULL when none does). An outbox text refers to the step that sent it so."""

    instance: Model
    field: str
    by: str
    value: object


def update_if_then_insert(
    instance: Model,
    fields: Sequence[str],
    expected: dict[str, object],
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: tuple[str, ...] = (),
    update: tuple[str, ...] = (),
    dependents: Sequence[Dependent] = (),
) -> bool:
    """update_if() and, only if it updated the row, insert_values() of `rows` and insert()
    of the `dependents`, in one statement (a data-modifying WITH): one round trip and no
    BEGIN or COMMIT, the statement being its own transaction. False, having written
    nothing, when the row no longer has the `expected` values. PostgreSQL only."""
    connection = connections[DEFAULT_DB_ALIAS]
    assert connection.vendor == "postgresql", "one statement for both needs PostgreSQL"
    update_sql, params = _update_if(instance, fields, expected)
    sql = f"WITH updated AS ({update_sql} RETURNING 1)"
    if rows:
        insert_sql = _joined_inserter(model, conflict, update, "updated")
        returning = f" RETURNING {_returned(model, dependents)}" if dependents else ""
        sql += f", inserted AS ({insert_sql}{returning})"
        params.append(rows_document(model, rows))
    elif dependents:
        raise ValueError("dependents refer to inserted rows: there are none")
    found = ["(SELECT COUNT(*) FROM updated)"]
    for n, dependent in enumerate(dependents):
        sql += f", dependent_{n} AS ({_dependent_inserter(dependent, model)})"
        params += _dependent_params(dependent, connection)
        found.append(f"(SELECT ARRAY[{_dependent_returned(dependent)}] FROM dependent_{n})")
    result = _rows(f"{sql} SELECT {', '.join(found)}", params)[0]
    if result[0] != 1:
        return False
    for dependent, (pk, reference) in zip(dependents, result[1:], strict=True):
        target = dependent.instance
        target.pk = pk
        setattr(target, target._meta.get_field(dependent.field).attname, reference)
        target._state.adding = False
        target._state.db = connection.alias
    return True


def _returned(model: type[Model], dependents: Sequence[Dependent]) -> str:
    """What the inserted rows return for the dependents to refer to: the key, and the
    columns they are found by."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta, quote = model._meta, connection.ops.quote_name
    by = sorted({meta.get_field(d.by).column for d in dependents})
    return ", ".join(quote(column) for column in [meta.pk.column, *by])


def _dependent_inserter(dependent: Dependent, referred: type[Model]) -> str:
    return _dependent_statement(type(dependent.instance), dependent.field, referred, dependent.by)


@functools.cache
def _dependent_statement(model: type[Model], field: str, referred: type[Model], by: str) -> str:
    """INSERT one `model` row from parameters (_dependent_params), its `field` looked up
    in `inserted` by `by`, only if `updated` has a row."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta, quote = model._meta, connection.ops.quote_name
    fields = _columns(model)
    lookup = (
        f"(SELECT {quote(referred._meta.pk.column)} FROM inserted "
        f"WHERE {quote(referred._meta.get_field(by).column)} = %s)"
    )
    values = [lookup if f.name == field else "%s" for f in fields]
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(values)} FROM updated "
        f"RETURNING {quote(meta.pk.column)}, {quote(meta.get_field(field).column)}"
    )


def _dependent_params(dependent: Dependent, connection: BaseDatabaseWrapper) -> list[Any]:
    """The dependent's values in its statement's order: the lookup's in the place of the
    field it sets."""
    model = type(dependent.instance)
    params = []
    for field in _columns(model):
        if field.name == dependent.field:
            params.append(dependent.value)
        else:
            params.append(prepared(field, field.pre_save(dependent.instance, True), connection))
    return params


def _dependent_returned(dependent: Dependent) -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    meta, quote = dependent.instance._meta, connection.ops.quote_name
    return f"{quote(meta.pk.column)}, {quote(meta.get_field(dependent.field).column)}"


@dataclass(frozen=True)
class Unless:
    """What makes insert_then_insert() insert nothing, rather than fail or go ahead: a row
    that already has the instance's value of the unique field `taken`, or `condition` (a
    boolean SQL expression with %s placeholders, of `params`) being false."""

    taken: str
    condition: str
    params: tuple[object, ...]


def insert_then_insert(
    instance: Model,
    model: type[Model],
    rows: Sequence[dict[str, Any]],
    *,
    parent: str,
    unless: Unless | None = None,
) -> bool:
    """insert() of the instance and insert_values() of `rows`, each row's `parent` field
    set to the instance's new key, in one statement (one round trip, no BEGIN or COMMIT).
    With `unless`, False, having inserted nothing, when its unique value is taken or its
    condition false. PostgreSQL only."""
    connection = connections[DEFAULT_DB_ALIAS]
    assert connection.vendor == "postgresql", "one statement for both needs PostgreSQL"
    instance_model, fields = type(instance), _columns(type(instance))
    params = [prepared(field, field.pre_save(instance, True), connection) for field in fields]
    if unless is None:
        sql = f"WITH parent AS ({_inserter(instance_model, 1, (), (), connection.vendor)})"
    else:
        sql = (
            f"WITH parent AS ({_guarded_inserter(instance_model, unless.taken, unless.condition)})"
        )
        params += unless.params
    if rows:
        key = instance_model._meta.pk.column
        sql += f", inserted AS ({_parent_inserter(model, parent, key)})"
        params.append(rows_document(model, rows))
    found = _rows(sql + " SELECT * FROM parent", params)
    if not found:
        return False
    instance.pk = found[0][0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return True


@functools.cache
def _guarded_inserter(model: type[Model], taken: str, condition: str) -> str:
    """INSERT one row of parameters if `condition` holds and no row has its `taken` value."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta, quote = model._meta, connection.ops.quote_name
    fields = _columns(model)
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(['%s'] * len(fields))} WHERE {condition} "
        f"ON CONFLICT ({quote(meta.get_field(taken).column)}) DO NOTHING "
        f"RETURNING {quote(meta.pk.column)}"
    )


@functools.cache
def _joined_inserter(
    model: type[Model], conflict: tuple[str, ...], update: tuple[str, ...], joined: str
) -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    meta, quote = model._meta, connection.ops.quote_name
    return (
        f"INSERT INTO {quote(meta.db_table)} ({_column_list(model)}) "
        f"{_rows_select(model, joined)}{_on_conflict(model, conflict, update)}"
    )


@functools.cache
def _parent_inserter(model: type[Model], parent: str, parent_key: str) -> str:
    """INSERT the rows with their `parent` field set to the CTE `parent`'s key column."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta, quote = model._meta, connection.ops.quote_name
    select = _rows_select(model, "parent", (parent, quote(parent_key)))
    return f"INSERT INTO {quote(meta.db_table)} ({_column_list(model)}) {select}"
