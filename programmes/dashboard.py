from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from peersupport.dashboard import Column

from .models import Enrolment

COLUMNS = [
    Column("members", _("Members"), "programmes:manage_detail"),
    Column("supporters", _("Supporters")),
    Column("applications", _("Supporter applications"), needs_attention=True),
]


def counts(programme_ids: list[int]) -> dict[int, dict[str, int]]:
    rows = (
        Enrolment.objects.filter(programme_id__in=programme_ids)
        .values("programme_id")
        .annotate(
            members=Count("pk", filter=Q(status="active", role__in=Enrolment.RECIPIENT_ROLES)),
            supporters=Count("pk", filter=Q(status="active", role="supporter")),
            applications=Count("pk", filter=Q(status="applied")),
        )
    )
    return {row.pop("programme_id"): row for row in rows}
