from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from programmes.models import Organisation

from .models import Practice, Referral


class ReferralForm(forms.Form):
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=None, empty_label=None)
    patient_name = forms.CharField(
        label=_("Patient's name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("We send the invitation here. Give an e-mail, a mobile number or both."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        required=False,
        help_text=_("We text the invitation to this number, never at night."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    reason = forms.CharField(
        label=_("Reason (optional)"),
        max_length=200,
        required=False,
        help_text=_(
            "A few words at most. Do not include health details the programme does not need."
        ),
    )
    contact_agreed = forms.BooleanField(
        label=_("The patient agreed that the programme may contact them"),
        error_messages={"required": _("Please check the patient agreed to be contacted.")},
    )
    progress_consent = forms.BooleanField(
        label=_("The patient agreed that I may see whether they took up the referral"),
        required=False,
    )

    def __init__(self, *args, programmes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programmes

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone"):
            self.add_error("email", _("Please give an e-mail address or a mobile number."))
        return data


class ReferralLinkForm(forms.Form):
    programme = forms.ModelChoiceField(label=_("Programme"), queryset=None, empty_label=None)
    label = forms.CharField(
        label=_("Label (optional)"),
        max_length=120,
        required=False,
        help_text=_("Where you will use it, e.g. diabetes clinic waiting room."),
    )
    expires_on = forms.DateField(
        label=_("Stops working on (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, programmes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programmes
        if programmes.count() == 1:
            self.fields["programme"].initial = programmes.first()


class ClinicianRegisterForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation you refer to"),
        queryset=Organisation.objects.order_by("name"),
        empty_label=None,
    )
    practice_name = forms.CharField(label=_("Practice or team name"), max_length=200)
    practice_kind = forms.ChoiceField(label=_("Type"), choices=Practice.Kind.choices)
    practice_area = forms.CharField(label=_("Area"), max_length=200, required=False)
    job_title = forms.CharField(label=_("Your job title"), max_length=120, required=False)


class PracticeForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, empty_label=None)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Type"), choices=Practice.Kind.choices)
    area = forms.CharField(label=_("Area"), max_length=200, required=False)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if organisations.count() == 1:
            self.fields["organisation"].initial = organisations.first()
            self.fields["organisation"].widget = forms.HiddenInput()


class ClinicianInviteForm(forms.Form):
    email = forms.EmailField(label=_("Clinician's e-mail"))


class InvitationAcceptForm(forms.Form):
    job_title = forms.CharField(
        label=_("Your job title (optional)"), max_length=120, required=False
    )


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any"))] + Referral.Status.choices
    )
    triage = forms.ChoiceField(
        label=_("Triage"), required=False, choices=[("", _("Any"))] + Referral.Triage.choices
    )
    source = forms.ChoiceField(label=_("Source"), required=False)

    def __init__(self, *args, practices, links, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = (
            [("", _("Any"))]
            + [(f"practice:{p.pk}", p.name) for p in practices]
            + [(f"link:{link.pk}", _("Link: %(label)s") % {"label": link}) for link in links]
        )


class TriageForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("contact", _("Contacted")), ("decline", _("Decline"))],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        label=_("Reason for declining"),
        max_length=300,
        required=False,
        help_text=_("The referring clinician sees this. Do not include health details."),
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note (only coordinators see notes)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
