from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peersupport.dashboard import Column

from .models import GroupSession, Membership, PostReport

COLUMNS = [
    Column("sessions_week", _("Sessions in the next 7 days"), "groups:programme_groups"),
    Column("join_requests", _("Requests to join a group"), needs_attention=True),
    Column("reported_posts", _("Reported posts"), needs_attention=True),
]


def _by_programme(queryset, path: str, key: str) -> dict[int, int]:
    rows = queryset.values(path).annotate(n=Count("pk"))
    return {row[path]: row["n"] for row in rows}


def counts(programme_ids: list[int]) -> dict[int, dict[str, int]]:
    now = timezone.now()
    sessions = _by_programme(
        GroupSession.objects.filter(
            group__programme_id__in=programme_ids,
            status="scheduled",
            starts_at__gte=now,
            starts_at__lt=now + timedelta(days=7),
        ),
        "group__programme_id",
        "sessions_week",
    )
    requests = _by_programme(
        Membership.objects.filter(group__programme_id__in=programme_ids, status="pending"),
        "group__programme_id",
        "join_requests",
    )
    reports = _by_programme(
        PostReport.objects.filter(
            post__thread__group__programme_id__in=programme_ids, resolved_at__isnull=True
        ),
        "post__thread__group__programme_id",
        "reported_posts",
    )
    return {
        pk: {
            "sessions_week": sessions.get(pk, 0),
            "join_requests": requests.get(pk, 0),
            "reported_posts": reports.get(pk, 0),
        }
        for pk in programme_ids
    }
