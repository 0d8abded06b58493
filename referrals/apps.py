from __future__ import annotations

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "referrals"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up
        from django.db.models.signals import post_save

        from programmes.models import Enrolment

        from . import signals

        user_signed_up.connect(signals.on_user_signed_up, dispatch_uid="referrals.signed_up")
        post_save.connect(
            signals.on_enrolment_saved, sender=Enrolment, dispatch_uid="referrals.enrolment"
        )
