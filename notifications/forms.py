from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import REFERRAL_KINDS, Kind
from .sources import OFFSET_CHOICES


def offset_label(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return (
            _("%(n)s day before") % {"n": days}
            if days == 1
            else _("%(n)s days before") % {"n": days}
        )
    if minutes % 60 == 0:
        hours = minutes // 60
        return _("1 hour before") if hours == 1 else _("%(n)s hours before") % {"n": hours}
    return _("%(n)s minutes before") % {"n": minutes}


OFFSET_FIELD_CHOICES = [(str(m), offset_label(m)) for m in sorted(OFFSET_CHOICES, reverse=True)]
# Not offered: the digest (coordinators only, added for them below), a kind no longer sent,
# and invitations to referred people, who have no account and so no choices to make.
PERSON_KINDS = [
    (k.value, k.label)
    for k in Kind
    if k not in (Kind.COORDINATOR_DIGEST, Kind.PAIRING_PROPOSED) and k not in REFERRAL_KINDS
]


class PreferenceForm(forms.Form):
    email_enabled = forms.BooleanField(label=_("By e-mail"), required=False)
    sms_enabled = forms.BooleanField(
        label=_("By text message"),
        required=False,
        help_text=_("We use the mobile number in your account. We never send texts at night."),
    )
    in_app_enabled = forms.BooleanField(label=_("On this website (the bell)"), required=False)
    kinds = forms.MultipleChoiceField(
        label=_("What we tell you about"),
        choices=PERSON_KINDS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    session_reminder_offsets = forms.MultipleChoiceField(
        label=_("When to remind you of group sessions"),
        help_text=_("Choose none to use your organisation's usual times."),
        choices=OFFSET_FIELD_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    quiet_start = forms.TimeField(
        label=_("Quiet hours start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("No text messages between these times. Your own time zone."),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours end"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    preferred_language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, is_coordinator: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if is_coordinator:
            self.fields["kinds"].choices = [
                *PERSON_KINDS,
                (Kind.COORDINATOR_DIGEST.value, Kind.COORDINATOR_DIGEST.label),
            ]

    def clean(self):
        data = super().clean()
        if bool(data.get("quiet_start")) != bool(data.get("quiet_end")):
            raise forms.ValidationError(
                _("Give both a start and an end for quiet hours, or neither.")
            )
        return data

    def values(self) -> dict:
        data = self.cleaned_data
        wanted = set(data["kinds"])
        all_kinds = [value for value, _label in self.fields["kinds"].choices]
        return {
            "email_enabled": data["email_enabled"],
            "sms_enabled": data["sms_enabled"],
            "in_app_enabled": data["in_app_enabled"],
            "muted_kinds": [k for k in all_kinds if k not in wanted],
            "quiet_start": data["quiet_start"],
            "quiet_end": data["quiet_end"],
            "session_reminder_offsets": sorted(
                (int(o) for o in data["session_reminder_offsets"]), reverse=True
            ),
            "preferred_language": data["preferred_language"],
        }


class OrganisationSettingsForm(forms.Form):
    session_reminder_offsets = forms.MultipleChoiceField(
        label=_("Remind members of group sessions"),
        choices=OFFSET_FIELD_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
