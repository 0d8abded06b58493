"""`{% app_partials "name" %}` renders `<app>/partials/<name>.html` from each local app.

It lets each app add its own links and panels to shared pages (a programme's coordinator page,
a member's programme card) without editing the other apps' templates.
"""

from __future__ import annotations

from functools import cache

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from peersupport.nav import LOCAL_APPS

register = template.Library()


@cache
def _templates_for(name: str) -> tuple:
    found = []
    for app in LOCAL_APPS:
        try:
            found.append(get_template(f"{app}/partials/{name}.html"))
        except TemplateDoesNotExist:
            continue
    return tuple(found)


@register.simple_tag(takes_context=True)
def app_partials(context, name: str) -> str:
    flat = context.flatten()
    request = context.get("request")
    return mark_safe("".join(t.render(flat, request) for t in _templates_for(name)))  # noqa: S308
