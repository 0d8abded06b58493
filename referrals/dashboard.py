from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from peersupport.dashboard import Column

from .models import Referral

COLUMNS = [
    Column("new_referrals", _("New referrals"), "referrals:inbox", needs_attention=True),
]


def counts(programme_ids: list[int]) -> dict[int, dict[str, int]]:
    rows = (
        Referral.objects.filter(programme_id__in=programme_ids)
        .values("programme_id")
        .annotate(new_referrals=Count("pk", filter=Q(triage=Referral.Triage.NEW)))
    )
    return {row.pop("programme_id"): row for row in rows}
