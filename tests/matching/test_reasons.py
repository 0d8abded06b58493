"""The engine's coded reasons put into words for the coordinator's review page."""

from __future__ import annotations

from matching import engine, reasons

EVENINGS = engine.slots(("Mon", "evening"), ("Wed", "evening"), ("Fri", "evening"))


def _lines(recipient: engine.Recipient, supporter: engine.Supporter) -> list[str]:
    problem = engine.build_problem([recipient], [supporter])
    explained = engine.breakdown(problem, recipient.id, supporter.id)
    return reasons.breakdown_lines(explained.as_dicts())


def _person(cls: type, pid: int, **fields: object):
    base = {
        "languages": frozenset({"en"}),
        "formats": frozenset({"phone"}),
        "availability": EVENINGS,
    }
    return cls(id=pid, **{**base, **fields})


def test_it_words_each_criterion_as_the_review_page_always_has() -> None:
    recipient = _person(
        engine.Recipient,
        1,
        conditions=frozenset({"type_2_diabetes"}),
        experiences=frozenset({"diagnosis", "work"}),
        role="caregiver",
        age=44,
        waiting_days=41,
        preferred_format="phone",
    )
    supporter = _person(
        engine.Supporter,
        2,
        conditions=frozenset({"type_2_diabetes"}),
        experiences=frozenset({"diagnosis", "work"}),
        roles=frozenset({"caregiver"}),
        age=57,
    )
    assert _lines(recipient, supporter) == [
        "shared language: English (required)",
        "can meet by phone (required)",
        "meets every requirement +10",
        "same condition: Type 2 diabetes +30",
        "shared experience: Being newly diagnosed and Working with a health condition +12",
        "both know life as a caregiver +10",
        "close age group (40s and 50s) +4",
        "3 shared evening slots +12",
        "offers their preferred format (phone) +5",
        "waited 41 days +8.79",
    ]


def test_it_marks_priorities_and_words_several_conditions_and_meeting_in_person() -> None:
    recipient = _person(
        engine.Recipient,
        1,
        formats=frozenset({"in_person", "video"}),
        conditions=frozenset({"cancer", "stroke"}),
        priorities=frozenset({"condition"}),
        age=30,
        location=(52.20, 0.12),
    )
    supporter = _person(
        engine.Supporter,
        2,
        formats=frozenset({"in_person"}),
        conditions=frozenset({"cancer", "stroke"}),
        age=35,
        location=(52.25, 0.12),
        availability=engine.slots(("Mon", "evening"), ("Sat", "morning")),
    )
    lines = _lines(recipient, supporter)
    assert "can meet in person only, 6 km apart (limit 25 km) (required)" in lines
    assert "2 shared conditions: Cancer and Stroke (their priority) +70" in lines
    assert "same age group (30s) +10" in lines
    assert "1 shared evening slot +4" in lines
    assert "lives about 6 km away +4" in lines


def test_it_shows_the_stored_text_of_proposals_made_before_reasons_had_codes() -> None:
    stored = [
        ["condition", 30.0, "same condition: Cancer +30"],
        ["waiting", 1.0, "waited 5 days +1"],
    ]
    assert reasons.breakdown_lines(stored) == ["same condition: Cancer +30", "waited 5 days +1"]


def test_it_words_why_someone_got_nobody_and_why_a_pin_was_not_kept() -> None:
    assert reasons.unmatched_reason("language") == "speak none of their languages"
    assert reasons.unmatched_reason("full") == reasons.unmatched_reason("taken")
    assert reasons.pin_problem("no_free_place") == "the supporter has no free place"
    # Runs stored before pins had codes kept English text: shown as it is.
    assert reasons.pin_problem("supporter has no free place") == "supporter has no free place"
    assert set(engine.REASONS) <= set(reasons.UNMATCHED_REASONS)
