"""Signal receivers, connected in ReferralsConfig.ready()."""

from __future__ import annotations

from . import services
from .attribution import attribute_from_session


def on_user_signed_up(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        attribute_from_session(request, user, new_account=True)


def on_enrolment_saved(sender, instance, created, **kwargs) -> None:
    services.referral_record_enrolment(enrolment=instance)
