"""Coded values people choose from: conditions, experiences, topics, languages, time slots.

Codes are stored in the database and passed to the engine; labels are what people read.
The weekly availability mask uses the engine's layout: bit (day * 3 + part of day).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CONDITIONS = [
    ("type_2_diabetes", _("Type 2 diabetes")),
    ("type_1_diabetes", _("Type 1 diabetes")),
    ("cancer", _("Cancer")),
    ("long_covid", _("Long COVID")),
    ("heart", _("Heart condition or heart failure")),
    ("kidney", _("Kidney disease")),
    ("stroke", _("Stroke")),
    ("lung", _("COPD or another lung condition")),
    ("dementia", _("Dementia")),
    ("mental_health", _("Mental health")),
    ("neuro", _("MS, Parkinson's or another nerve condition")),
]

EXPERIENCES = [
    ("diagnosis", _("Being newly diagnosed")),
    ("treatment", _("Going through treatment")),
    ("after_treatment", _("Life after treatment")),
    ("bereavement", _("Losing someone close")),
    ("caring_role", _("Caring for a family member")),
    ("work", _("Working with a health condition")),
    ("parenting", _("Bringing up children")),
]

TOPICS = [
    ("end_of_life", _("End of life")),
    ("bereavement", _("Grief and loss")),
    ("alcohol_drugs", _("Alcohol or drugs")),
    ("self_harm", _("Self-harm")),
    ("money", _("Money worries")),
    ("relationships", _("Relationship problems")),
]

LANGUAGES = [
    ("en", _("English")),
    ("cy", _("Welsh")),
    ("bsl", _("British Sign Language")),
    ("pl", _("Polish")),
    ("ur", _("Urdu")),
    ("pa", _("Punjabi")),
    ("bn", _("Bengali")),
    ("gu", _("Gujarati")),
    ("ar", _("Arabic")),
    ("so", _("Somali")),
    ("ro", _("Romanian")),
    ("es", _("Spanish")),
    ("pt", _("Portuguese")),
    ("zh", _("Chinese")),
]

FORMATS = [
    ("phone", _("Phone calls")),
    ("video", _("Video calls")),
    ("in_person", _("Meeting in person")),
    ("messaging", _("Messages on this website")),
]

# What a recipient may want to share with their buddy. Codes match the engine's priorities.
WANTS = [
    ("condition", _("The same condition")),
    ("treatment", _("The same treatment or experience")),
    ("caring_situation", _("The same caring situation")),
    ("age", _("A similar age or stage of life")),
]

# Lived experience as a patient, a carer, or both; codes match the engine's roles.
LIVED_ROLES = [
    ("patient", _("I have lived with the condition myself")),
    ("caregiver", _("I have cared for someone with the condition")),
]

# Age groups and the age the engine uses for each (it compares ten-year bands).
AGE_GROUPS = [
    ("18_29", _("18 to 29")),
    ("30_44", _("30 to 44")),
    ("45_64", _("45 to 64")),
    ("65_79", _("65 to 79")),
    ("80_plus", _("80 or over")),
]
AGE_FOR_GROUP = {"18_29": 24, "30_44": 37, "45_64": 55, "65_79": 72, "80_plus": 85}

DAYS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]
PARTS_OF_DAY = [_("Morning"), _("Afternoon"), _("Evening")]
ALL_SLOTS = (1 << (len(DAYS) * len(PARTS_OF_DAY))) - 1


def slot_bit(day: int, part: int) -> int:
    """The availability bit of a weekday (0 = Monday) and part of the day (0 = morning)."""
    return 1 << (day * len(PARTS_OF_DAY) + part)


def slot_choices() -> list[tuple[str, str]]:
    """Choices for a checkbox per time slot, valued by bit number."""
    return [
        (str(day * len(PARTS_OF_DAY) + part), f"{DAYS[day]} {PARTS_OF_DAY[part].lower()}")
        for day in range(len(DAYS))
        for part in range(len(PARTS_OF_DAY))
    ]


def slots_to_mask(values: list[str]) -> int:
    mask = 0
    for value in values:
        bit = int(value)
        if 0 <= bit < len(DAYS) * len(PARTS_OF_DAY):
            mask |= 1 << bit
    return mask


def mask_to_slots(mask: int) -> list[str]:
    return [str(bit) for bit in range(len(DAYS) * len(PARTS_OF_DAY)) if mask >> bit & 1]


def slot_labels(mask: int) -> list[str]:
    labels = dict(slot_choices())
    return [labels[bit] for bit in mask_to_slots(mask)]


def labels(choices: list[tuple[str, str]], codes: list[str]) -> list[str]:
    """The readable labels of some codes, in the order of the choices."""
    wanted = set(codes or [])
    return [str(label) for code, label in choices if code in wanted]


def codes(choices: list[tuple[str, str]]) -> list[str]:
    return [code for code, _label in choices]
