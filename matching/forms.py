"""Forms for matching pages. Validation that needs the database lives in the services."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import vocab
from .models import (
    MAX_CAPACITY,
    CheckIn,
    ContactLog,
    MatchSettings,
    Pairing,
    PairRule,
    ScreeningStep,
    TrainingModule,
)
from .places import town_choices

CHECKS = forms.CheckboxSelectMultiple
DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _multi(label, choices, *, required=False, help_text=""):
    return forms.MultipleChoiceField(
        label=label, choices=choices, widget=CHECKS, required=required, help_text=help_text
    )


class SlotsField(forms.MultipleChoiceField):
    """Weekly free times as checkboxes, stored as the engine's bit mask."""

    widget = CHECKS

    def __init__(self, **kwargs):
        super().__init__(choices=vocab.slot_choices(), **kwargs)

    def prepare_value(self, value):
        if isinstance(value, int):
            return vocab.mask_to_slots(value)
        return value

    def clean(self, value):
        return vocab.slots_to_mask(super().clean(value))


def _town_field():
    return forms.ChoiceField(
        label=_("Nearest town"),
        choices=[("", _("Not needed: I will not meet in person"))] + town_choices(),
        required=False,
        help_text=_("Only needed to meet in person. We keep the town, not your address."),
    )


class OfferMixin(forms.Form):
    """Fields a supporter and a recipient both fill in."""

    def initial_from(self, instance) -> None:
        for name in self.fields:
            if hasattr(instance, name):
                self.initial[name] = getattr(instance, name)


class SupporterProfileForm(OfferMixin):
    lived_experience = forms.CharField(
        label=_("Your experience, in your own words"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("A few sentences. The people you support will read this."),
    )
    lived_roles = _multi(_("Your experience is"), vocab.LIVED_ROLES, required=True)
    conditions = _multi(_("Conditions you know about"), vocab.CONDITIONS)
    experiences = _multi(_("Things you have been through"), vocab.EXPERIENCES)
    age_group = forms.ChoiceField(
        label=_("Your age"),
        choices=[("", _("I would rather not say"))] + vocab.AGE_GROUPS,
        required=False,
    )
    languages = _multi(_("Languages you can support in"), vocab.LANGUAGES, required=True)
    availability = SlotsField(label=_("When are you usually free?"), required=True)
    formats = _multi(_("Ways you can support someone"), vocab.FORMATS, required=True)
    town = _town_field()
    capacity = forms.IntegerField(
        label=_("How many people can you support at once?"),
        min_value=1,
        max_value=MAX_CAPACITY,
        initial=1,
    )
    will_not_support = _multi(
        _("Topics you would rather not support"),
        vocab.TOPICS,
        help_text=_(
            "That is fine. We will not match you with someone who wants to talk about these."
        ),
    )
    will_not_support_notes = forms.CharField(
        label=_("Anything else you would rather not support"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )


class BuddyRequestForm(OfferMixin):
    wants = _multi(
        _("What would you like to share with your buddy?"),
        vocab.WANTS,
        help_text=_("Choose any. We will try hardest to find these."),
    )
    conditions = _multi(_("Which conditions are part of your life?"), vocab.CONDITIONS)
    experiences = _multi(_("What are you going through?"), vocab.EXPERIENCES)
    age_group = forms.ChoiceField(
        label=_("Your age"),
        choices=[("", _("I would rather not say"))] + vocab.AGE_GROUPS,
        required=False,
    )
    languages = _multi(_("Which languages can you talk in?"), vocab.LANGUAGES, required=True)
    availability = SlotsField(label=_("When are you usually free?"), required=True)
    formats = _multi(_("How would you like to talk?"), vocab.FORMATS, required=True)
    preferred_format = forms.ChoiceField(
        label=_("Which do you like best?"),
        choices=[("", _("No preference"))] + vocab.FORMATS,
        required=False,
    )
    town = _town_field()
    topics = _multi(
        _("Things you might want to talk about"),
        vocab.TOPICS,
        help_text=_("Optional. It helps us choose someone who is happy to talk about them."),
    )
    notes = forms.CharField(
        label=_("Anything the coordinator should know"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )


class ScreeningStepForm(forms.ModelForm):
    class Meta:
        model = ScreeningStep
        fields = ["kind", "done_on", "outcome", "notes"]
        widgets = {"done_on": DATE, "notes": forms.Textarea(attrs={"rows": 2})}


class TrainingModuleForm(forms.ModelForm):
    class Meta:
        model = TrainingModule
        fields = ["name", "description", "valid_for_days"]


class TrainingRecordForm(forms.Form):
    module = forms.ModelChoiceField(
        label=_("Training module"), queryset=TrainingModule.objects.none()
    )
    completed_on = forms.DateField(label=_("Completed on"), widget=DATE, initial=timezone.localdate)

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["module"].queryset = programme.training_modules.all()


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class PauseForm(forms.Form):
    until = forms.DateField(label=_("Pause until"), widget=DATE)
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=200,
        help_text=_("For example: holiday, or not feeling well."),
    )


class CapacityForm(forms.Form):
    capacity = forms.IntegerField(
        label=_("How many people can you support at once?"), min_value=1, max_value=MAX_CAPACITY
    )


class MatchSettingsForm(forms.ModelForm):
    class Meta:
        model = MatchSettings
        fields = [
            *MatchSettings.WEIGHT_FIELDS,
            "max_distance_km",
            "allow_contact_sharing",
            "no_contact_days",
        ]


class PairRuleForm(forms.Form):
    recipient = forms.ModelChoiceField(label=_("Member"), queryset=None)
    supporter = forms.ModelChoiceField(label=_("Supporter"), queryset=None)
    kind = forms.ChoiceField(
        label=_("Rule"), choices=PairRule.Kind.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, recipients, supporters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients
        self.fields["recipient"].label_from_instance = lambda e: e.user.display_name
        self.fields["supporter"].queryset = supporters
        self.fields["supporter"].label_from_instance = lambda p: p.enrolment.user.display_name


class HandPairForm(forms.Form):
    request = forms.ModelChoiceField(label=_("Member waiting for a buddy"), queryset=None)
    supporter = forms.ModelChoiceField(label=_("Supporter"), queryset=None)

    def __init__(self, *args, requests, supporters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["request"].queryset = requests
        self.fields["request"].label_from_instance = lambda r: r.enrolment.user.display_name
        self.fields["supporter"].queryset = supporters
        self.fields["supporter"].label_from_instance = lambda p: p.enrolment.user.display_name


class AcceptForm(forms.Form):
    agreed = forms.BooleanField(
        label=_("I agree to these rules"),
        error_messages={"required": _("Please tick the box to say you agree to the rules.")},
    )


class EndForm(forms.Form):
    ending = forms.ChoiceField(
        label=_("How is it ending?"),
        choices=[
            (Pairing.Ending.COMPLETED, _("We finished as planned")),
            (Pairing.Ending.CANCELLED, _("I want to stop early")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Why? (a few words)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=500,
        help_text=_("Needed if you are stopping early. Only the coordinator sees this."),
    )


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class ContactLogForm(forms.ModelForm):
    class Meta:
        model = ContactLog
        fields = ["contact_on", "minutes", "method", "note", "needs_support"]
        widgets = {"contact_on": DATE, "method": forms.RadioSelect}
        help_texts = {
            "note": _("A few words. No private details."),
            "needs_support": _(
                "Tick this if something worried or upset you. A coordinator will call you."
            ),
        }


class CheckInForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("How is it going with your buddy?"),
        choices=CheckIn.Answer.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Anything you want to add"), required=False, max_length=500)


class ConcernForm(forms.Form):
    text = forms.CharField(
        label=_("What is worrying you?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("Only the coordinator sees this. Your buddy is not told."),
    )


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=_("What was done"), max_length=500)
