"""Template helpers for matching pages."""

from __future__ import annotations

from django import template

from .. import reasons, vocab
from ..models import BuddyRequest, Pairing, SupporterProfile

register = template.Library()


@register.simple_tag
def slot_grid(field) -> list[dict]:
    """Rows of a weekly free-time grid for a SlotsField: one row per day, one cell per part."""
    chosen = {str(v) for v in (field.value() or [])}
    parts = len(vocab.PARTS_OF_DAY)
    rows = []
    for day, day_label in enumerate(vocab.DAYS):
        cells = []
        for part, part_label in enumerate(vocab.PARTS_OF_DAY):
            value = str(day * parts + part)
            cells.append(
                {
                    "value": value,
                    "id": f"{field.auto_id}_{value}",
                    "label": f"{day_label} {str(part_label).lower()}",
                    "checked": value in chosen,
                }
            )
        rows.append({"day": day_label, "cells": cells})
    return rows


@register.filter
def reason_lines(breakdown) -> list[str]:
    """A proposal's stored breakdown as plain-language lines, in the reader's language."""
    return reasons.breakdown_lines(breakdown or [])


@register.simple_tag
def parts_of_day() -> list:
    return vocab.PARTS_OF_DAY


@register.simple_tag
def buddy_status(enrolment) -> dict:
    """What the member's programme card shows about buddies for one enrolment."""
    if enrolment.role == "supporter":
        profile = SupporterProfile.objects.filter(enrolment=enrolment).first()
        live = (
            Pairing.objects.filter(supporter=profile)
            .exclude(status__in=["proposed", "ended"])
            .count()
            if profile
            else 0
        )
        return {"kind": "supporter", "profile": profile, "live": live}
    if not enrolment.programme.offers_one_to_one or enrolment.status != "active":
        return {"kind": "none"}
    request = BuddyRequest.objects.filter(enrolment=enrolment).open().first()
    pairing = None
    if request is not None and request.status == "paired":
        pairing = request.pairings.exclude(status__in=["proposed", "ended"]).first()
    return {"kind": "recipient", "request": request, "pairing": pairing}
