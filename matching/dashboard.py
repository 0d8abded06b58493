from __future__ import annotations

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from peersupport.dashboard import Column

from .models import BuddyRequest, Concern, Pairing, Proposal

COLUMNS = [
    Column("buddy_waiting", _("Waiting for a buddy"), "matching:manage_requests"),
    Column("proposals", _("Proposals to review"), "matching:manage_programme", True),
    Column("active_pairings", _("Active pairings"), "matching:manage_pairings"),
    Column("concerns", _("Open concerns"), "matching:manage_pairings", True),
]


def _by_programme(queryset, path: str) -> dict[int, int]:
    return {row[path]: row["n"] for row in queryset.values(path).annotate(n=Count("pk"))}


def counts(programme_ids: list[int]) -> dict[int, dict[str, int]]:
    waiting = _by_programme(
        BuddyRequest.objects.filter(enrolment__programme_id__in=programme_ids, status="waiting"),
        "enrolment__programme_id",
    )
    proposals = _by_programme(
        Proposal.objects.filter(run__programme_id__in=programme_ids, status="proposed"),
        "run__programme_id",
    )
    active = _by_programme(
        Pairing.objects.filter(programme_id__in=programme_ids, status="active"), "programme_id"
    )
    concerns = _by_programme(
        Concern.objects.filter(pairing__programme_id__in=programme_ids, resolved_at__isnull=True),
        "pairing__programme_id",
    )
    return {
        pk: {
            "buddy_waiting": waiting.get(pk, 0),
            "proposals": proposals.get(pk, 0),
            "active_pairings": active.get(pk, 0),
            "concerns": concerns.get(pk, 0),
        }
        for pk in programme_ids
    }
