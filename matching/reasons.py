"""The matching engine's reasons, in words: why a pair was proposed and why someone got nobody.

The engine gives codes and numbers only (see engine.Criterion and engine.REASONS); this turns
them into plain language with gettext, so the review page can be translated. Proposals stored
before reasons were structured hold [code, points, English text]: their text is shown as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.template.defaultfilters import floatformat
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from . import vocab

# Why supporters did not suit someone who got nobody: "<count> <label>".
UNMATCHED_REASONS = {
    "language": gettext_lazy("speak none of their languages"),
    "format": gettext_lazy("offer none of the ways they want to talk"),
    "availability": gettext_lazy("are never free at the same times"),
    "distance": gettext_lazy("live too far away to meet in person"),
    "exclusion": gettext_lazy("would rather not support a topic they mentioned"),
    "forbidden": gettext_lazy("must not be paired with them"),
    "no_places": gettext_lazy("have no free place"),
    "full": gettext_lazy("fit, but were a better match for someone else this time"),
    "no_benefit": gettext_lazy("fit, but have nothing in common that scores points"),
    "available": gettext_lazy("fit and still have a free place"),
    # Runs stored before the engine told "full" apart from the rest called every fit "taken".
    "taken": gettext_lazy("fit, but were a better match for someone else this time"),
}

# Why a coordinator's pin could not be kept.
PIN_PROBLEMS = {
    "language": gettext_lazy("they share no language"),
    "format": gettext_lazy("they share no way to talk"),
    "availability": gettext_lazy("they are never free at the same time"),
    "distance": gettext_lazy("they live too far apart to meet in person"),
    "exclusion": gettext_lazy("the supporter would rather not support a topic they mentioned"),
    "forbidden": gettext_lazy("this pair must not be paired"),
    "already_pinned": gettext_lazy("this person is already pinned to another supporter"),
    "no_free_place": gettext_lazy("the supporter has no free place"),
    "unknown_recipient": gettext_lazy("this person is not waiting for a buddy"),
    "unknown_supporter": gettext_lazy("the supporter is not free to be matched"),
}

FORMAT_WORDS = {
    "phone": gettext_lazy("phone"),
    "video": gettext_lazy("video"),
    "in_person": gettext_lazy("in person"),
    "messaging": gettext_lazy("messaging"),
}
ROLE_WORDS = {"patient": gettext_lazy("patient"), "caregiver": gettext_lazy("caregiver")}


def unmatched_reason(code: str) -> str:
    return str(UNMATCHED_REASONS.get(code, code))


def pin_problem(code: str) -> str:
    return str(PIN_PROBLEMS.get(code, code))


def breakdown_lines(breakdown: Iterable[object]) -> list[str]:
    """One plain-language line per criterion of a stored breakdown."""
    return [criterion_line(item) for item in breakdown]


def criterion_line(item: object) -> str:
    """Render one criterion ({"code", "points", "facts"}), e.g. "same condition: Cancer +30"."""
    if not isinstance(item, Mapping):
        # [code, points, text] from before reasons were structured.
        return str(item[2]) if isinstance(item, list | tuple) and len(item) > 2 else str(item)
    code, points, facts = item["code"], item["points"], item.get("facts") or {}
    render = _RENDERERS.get(code)
    text = render(facts) if render else code
    if facts.get("priority"):
        text = _("%(reason)s (their priority)") % {"reason": text}
    if code in ("language", "format"):
        return _("%(reason)s (required)") % {"reason": text}
    return _("%(reason)s +%(points)s") % {"reason": text, "points": floatformat(points, -2)}


def _names(choices: list[tuple[str, object]], codes: Iterable[str]) -> list[str]:
    labels = dict(choices)
    return [str(labels.get(code, code)) for code in codes]


def _and(words: list[str]) -> str:
    return str(get_text_list(words, _("and")))


def _language(facts: dict) -> str:
    return _("shared language: %(languages)s") % {
        "languages": _and(_names(vocab.LANGUAGES, facts.get("languages", [])))
    }


def _format(facts: dict) -> str:
    if "km" in facts:
        return _("can meet in person only, %(km)s km apart (limit %(limit)s km)") % {
            "km": floatformat(facts["km"], 0),
            "limit": floatformat(facts["limit_km"], -1),
        }
    ways = [str(FORMAT_WORDS.get(code, code)) for code in facts.get("formats", [])]
    return _("can meet by %(ways)s") % {"ways": str(get_text_list(ways, _("or")))}


def _condition(facts: dict) -> str:
    names = _names(vocab.CONDITIONS, facts.get("conditions", []))
    if len(names) == 1:
        return _("same condition: %(conditions)s") % {"conditions": names[0]}
    return _("%(count)d shared conditions: %(conditions)s") % {
        "count": len(names),
        "conditions": _and(names),
    }


def _experience(facts: dict) -> str:
    names = _names(vocab.EXPERIENCES, facts.get("experiences", []))
    return _("shared experience: %(experiences)s") % {"experiences": _and(names)}


def _caring(facts: dict) -> str:
    role = facts.get("role")
    return _("both know life as a %(role)s") % {"role": ROLE_WORDS.get(role, role)}


def _age(facts: dict) -> str:
    low, high = facts["decades"]
    if low == high:
        return _("same age group (%(decade)ss)") % {"decade": low}
    return _("close age group (%(low)ss and %(high)ss)") % {"low": low, "high": high}


SHARED_SLOTS = {
    "morning": ngettext_lazy(
        "%(count)d shared morning slot", "%(count)d shared morning slots", "count"
    ),
    "afternoon": ngettext_lazy(
        "%(count)d shared afternoon slot", "%(count)d shared afternoon slots", "count"
    ),
    "evening": ngettext_lazy(
        "%(count)d shared evening slot", "%(count)d shared evening slots", "count"
    ),
    None: ngettext_lazy("%(count)d shared slot", "%(count)d shared slots", "count"),
}


def _slots(facts: dict) -> str:
    message = SHARED_SLOTS.get(facts.get("part_of_day"), SHARED_SLOTS[None])
    return message % {"count": facts["count"]}


def _preferred_format(facts: dict) -> str:
    way = facts.get("format")
    return _("offers their preferred format (%(way)s)") % {"way": FORMAT_WORDS.get(way, way)}


def _waiting(facts: dict) -> str:
    days = facts["days"]
    text = ngettext("waited %(days)d day", "waited %(days)d days", days) % {"days": days}
    if facts.get("again"):
        return _("%(waited)s, after a pairing that did not work out") % {"waited": text}
    return text


def _closeness(facts: dict) -> str:
    return _("lives about %(km)s km away") % {"km": floatformat(facts["km"], 0)}


_RENDERERS = {
    "language": _language,
    "format": _format,
    "compatible": lambda facts: _("meets every requirement"),
    "condition": _condition,
    "experience": _experience,
    "caring_situation": _caring,
    "age": _age,
    "slots": _slots,
    "preferred_format": _preferred_format,
    "waiting": _waiting,
    "closeness": _closeness,
}
