"""Fast INSERTs of many rows for the ledger and in-app notices, and cheap `id IN (...)`
filters for the many ids a send batch handles, on SQLite and PostgreSQL.

`QuerySet.bulk_create` builds a model instance and prepares every value of every row through
the ORM, which costs more than the database work for the thousands of rows a planning tick
writes. Here rows are plain tuples, sent as multi-row VALUES (SQLite) or as one JSON
parameter (PostgreSQL), and a row whose unique key is already there is left alone
(`ON CONFLICT (...) DO NOTHING`, which both databases understand), so planning twice inserts
nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from django.db import connection, models
from django.db.models.expressions import RawSQL

# SQLite allows 32,766 parameters in one statement.
SQLITE_MAX_PARAMS = 30_000


def _adapter(field: models.Field):
    """A function that adapts one value of `field` for the database, or None if none is needed.

    Planned rows share many values (a session's start, the planning moment, one `data` dict
    for everyone at a session), so each distinct value is adapted once per call.
    """
    if isinstance(field, models.DateTimeField):
        adapt = connection.ops.adapt_datetimefield_value
        seen: dict = {}

        def adapt_datetime(value):
            if value is None:
                return None
            if value not in seen:
                seen[value] = adapt(value)
            return seen[value]

        return adapt_datetime
    if isinstance(field, models.JSONField):
        # Keyed by identity: every row is alive for the whole call, so ids are not reused.
        by_id: dict[int, object] = {}

        def adapt_json(value):
            key = id(value)
            if key not in by_id:
                by_id[key] = field.get_db_prep_save(value, connection)
            return by_id[key]

        return adapt_json
    return None


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence],
    *,
    conflict: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple]:
    """INSERT `rows` (tuples in the order of `fields`) into `model`'s table.

    With `conflict`, rows that clash on that unique column set are skipped silently. With
    `returning`, those columns of the rows inserted (not the skipped ones) are returned, as
    the database gives them (no conversion).
    """
    if not rows:
        return []
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in model_fields)
    tail = ""
    if conflict:
        target = ", ".join(quote(meta.get_field(name).column) for name in conflict)
        tail = f" ON CONFLICT ({target}) DO NOTHING"
    if returning:
        tail += " RETURNING " + ", ".join(quote(meta.get_field(name).column) for name in returning)
    into = f"INSERT INTO {quote(meta.db_table)} ({columns})"
    if connection.vendor == "postgresql":
        return _insert_json(into, tail, model_fields, rows, fetch=bool(returning))
    return _insert_values(into, tail, model_fields, rows, fetch=bool(returning))


def _insert_values(
    into: str, tail: str, model_fields: list, rows: Sequence[Sequence], *, fetch: bool
) -> list[tuple]:
    """SQLite: multi-row VALUES, several times faster here than executemany."""
    adapters = [(i, a) for i, f in enumerate(model_fields) if (a := _adapter(f)) is not None]
    if adapters:
        adapted = []
        for row in rows:
            row = list(row)
            for i, adapt in adapters:
                row[i] = adapt(row[i])
            adapted.append(row)
        rows = adapted
    one = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
    per_statement = max(1, SQLITE_MAX_PARAMS // len(model_fields))
    returned: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"{into} VALUES {', '.join([one] * len(chunk))}{tail}",  # noqa: S608
                [value for row in chunk for value in row],
            )
            if fetch:
                returned += cursor.fetchall()
    return returned


def _insert_json(
    into: str, tail: str, model_fields: list, rows: Sequence[Sequence], *, fetch: bool
) -> list[tuple]:
    """PostgreSQL: all rows as one JSON array of arrays, taken apart by the server (as jsonb,
    which is parsed once; json would be parsed again for every column of every row).

    A short statement whatever the number of rows (psycopg would parse a long VALUES list
    anew every time, and executemany sends a statement per row), and one parameter that
    json.dumps writes in C: psycopg quotes each element of an array parameter in Python,
    which cost more than the INSERT itself.
    """
    columns = []
    for i, field in enumerate(model_fields):
        if isinstance(field, models.JSONField):
            # JSON null is SQL NULL, as the ORM stores None.
            columns.append(
                f"CASE WHEN jsonb_typeof(item->{i}) = 'null' THEN NULL ELSE item->{i} END"
            )
        else:
            columns.append(f"(item->>{i})::{field.db_type(connection)}")
    times = [
        i
        for i, field in enumerate(model_fields)
        if isinstance(field, (models.DateField, models.TimeField))  # DateTimeField too
    ]
    if times:
        rows = [list(row) for row in rows]
        for row in rows:
            for i in times:
                if row[i] is not None:
                    row[i] = row[i].isoformat()
    # Column names and types come from the model, values only through the parameter.
    sql = (
        f"{into} SELECT {', '.join(columns)} FROM jsonb_array_elements(%s::jsonb) AS r(item){tail}"  # noqa: S608
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows)])
        return cursor.fetchall() if fetch else []


def ids(values: Iterable[int | None]):
    """The integers `values` as one query parameter, for `filter(pk__in=bulk.ids(values))`.

    The ORM prepares every element of an `__in` list on its own, which for the hundreds of
    ids of a send batch (thousands when dispatching) costs more than running the query. One
    array (PostgreSQL) or JSON text (SQLite) parameter costs the same whatever the length.
    None is left out, as the ORM's `__in` does (it matches nothing).
    """
    values = [int(value) for value in values if value is not None]
    if connection.vendor == "postgresql":
        # An array literal made here: psycopg would quote each element of a list.
        return RawSQL("SELECT unnest(%s::bigint[])", ["{" + ",".join(map(str, values)) + "}"])
    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])
    return values
