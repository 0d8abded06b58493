"""The coordinator's dashboard, with columns contributed by each app's `dashboard.py`.

An app's `dashboard.py` defines `COLUMNS` (a list of `Column`) and
`counts(programme_ids) -> {programme_id: {column_key: number}}`, answered with a fixed
number of aggregate queries however many programmes and rows there are. It may also define
`alerts(user) -> [{"text": ..., "url": ...}]` for organisation-wide warnings.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from peersupport.nav import LOCAL_APPS


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    url_name: str | None = None  # a per-programme page taking the programme's pk
    needs_attention: bool = False  # highlight when above zero


@cache
def providers() -> tuple:
    found = []
    for app in LOCAL_APPS:
        try:
            found.append(importlib.import_module(f"{app}.dashboard"))
        except ModuleNotFoundError:
            continue
    return tuple(found)


def columns() -> list[Column]:
    return [column for module in providers() for column in module.COLUMNS]


def counts(programme_ids: list[int]) -> dict[int, dict[str, int]]:
    merged: dict[int, dict[str, int]] = {pk: {} for pk in programme_ids}
    if not programme_ids:
        return merged
    for module in providers():
        for pk, values in module.counts(programme_ids).items():
            merged.setdefault(pk, {}).update(values)
    return merged


def alerts(user) -> list[dict]:
    """Organisation-wide things that need a coordinator, from apps that define `alerts(user)`."""
    found: list[dict] = []
    for module in providers():
        if hasattr(module, "alerts"):
            found.extend(module.alerts(user))
    return found
