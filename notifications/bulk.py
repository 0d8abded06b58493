"""Fast INSERTs of many rows for the ledger and in-app notices, and cheap `id IN (...)`
filters for the many ids a send batch handles, on SQLite and PostgreSQL.

`QuerySet.bulk_create` builds a model instance and prepares every value of every row through
the ORM, which costs more than the database work for the thousands of rows a planning tick
writes. Here rows are plain tuples, values are adapted once per column kind, and a row whose
unique key is already there is left alone (`ON CONFLICT (...) DO NOTHING`, which both
databases understand), so planning twice inserts nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

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
) -> None:
    """INSERT `rows` (tuples in the order of `fields`) into `model`'s table.

    With `conflict`, rows that clash on that unique column set are skipped silently.
    """
    if not rows:
        return
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    adapters = [(i, a) for i, f in enumerate(model_fields) if (a := _adapter(f)) is not None]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in model_fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = ""
    if conflict:
        target = ", ".join(quote(meta.get_field(name).column) for name in conflict)
        tail = f" ON CONFLICT ({target}) DO NOTHING"
    if adapters:
        adapted = []
        for row in rows:
            row = list(row)
            for i, adapt in adapters:
                row[i] = adapt(row[i])
            adapted.append(row)
        rows = adapted
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column, unnested into rows: a short statement whatever the
            # number of rows (psycopg would parse a long VALUES list anew every time, and
            # executemany sends a statement per row).
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in model_fields)
            sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}){tail}"  # noqa: S608
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
            return
        # SQLite: multi-row VALUES, several times faster here than executemany.
        per_statement = max(1, SQLITE_MAX_PARAMS // len(fields))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join([one] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values}{tail}",  # noqa: S608
                [value for row in chunk for value in row],
            )


def ids(values: Sequence[int]):
    """The integers `values` as one query parameter, for `filter(pk__in=bulk.ids(values))`.

    The ORM prepares every element of an `__in` list on its own, which for the hundreds of
    ids of a send batch (thousands when dispatching) costs more than running the query. One
    array (PostgreSQL) or JSON text (SQLite) parameter costs the same whatever the length.
    """
    values = [int(value) for value in values]
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [values])
    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])
    return values
