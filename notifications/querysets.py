"""Chainable read filters for notices and deliveries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from accounts.models import User


def _is_person(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated)


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user: User | None):
        """A person's own in-app notices; nobody else's."""
        if not _is_person(user):
            return self.none()
        return self.filter(user=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class DeliveryQuerySet(models.QuerySet):
    def managed_by(self, user: User | None):
        """Deliveries of the organisations `user` coordinates."""
        from programmes.models import Organisation

        if not _is_person(user):
            return self.none()
        return self.filter(organisation__in=Organisation.objects.managed_by(user).values("pk"))

    def failed(self):
        return self.filter(status="failed")

    def for_referrals(self, referral_ids):
        """Invitations and reminders to referred people, found by their keys (an index)."""
        from .models import REFERRAL_KINDS, Channel, referral_delivery_key

        return self.filter(
            key__in=[
                referral_delivery_key(kind, referral_id, channel)
                for referral_id in referral_ids
                for kind in REFERRAL_KINDS
                for channel in (Channel.EMAIL, Channel.SMS)
            ]
        )

    def due(self, now):
        return self.filter(status="pending", due_at__lte=now)
