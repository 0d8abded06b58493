from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from peersupport.nav import items_for

from .roles import roles_for


def roles(request) -> dict:
    """`roles` and `nav_items` in every template, so navigation changes with the person's roles."""
    lazy = SimpleLazyObject(lambda: roles_for(request.user))
    return {
        "roles": lazy,
        "nav_items": SimpleLazyObject(lambda: items_for(request, lazy)),
    }
