"""Addresses of many objects of one kind, reversed once instead of once per object."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

# An id no real row has, so the reversed address can be filled in per object.
_PLACEHOLDER_PK = 2_147_483_647
_PLACEHOLDER = f"/{_PLACEHOLDER_PK}/"


def pk_url(url_name: str) -> Callable[[int], str]:
    """`reverse(url_name, args=[pk])` as a function of pk, after one reverse().

    The URL must take the id as one whole path segment (`<int:pk>/`).
    """
    url = reverse(url_name, args=[_PLACEHOLDER_PK])
    if url.count(_PLACEHOLDER) != 1:
        raise ValueError(f"{url_name} must take the id as one path segment")
    head, tail = url.split(_PLACEHOLDER)
    return lambda pk: f"{head}/{int(pk)}/{tail}"
