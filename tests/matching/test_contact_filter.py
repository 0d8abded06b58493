from __future__ import annotations

import pytest

from matching.contact_filter import find_contact_details, has_contact_details

PHONES = [
    "07700 900123",
    "07700900123",
    "077 009 001 23",
    "07700.900.123",
    "07700-900-123",
    "07700 – 900 123",
    "+44 7700 900123",
    "+447700900123",
    "+44 (0)7700 900123",
    "+44 (0) 7700-900-123",
    "0044 7700 900 123",
    "(0121) 496 0000",
    "0121 496 0000",
    "020 7946 0000",
    "7700 900123",
    "oh seven seven oh oh nine oh oh one two three",
    "zero seven seven double oh nine double oh one two three",
    "O7700 900123",
    "call me on 07700900123 at 10:30",
    "ring me tomorrow: 0 7 7 0 0 9 0 0 1 2 3 thanks",
    "my number is 07700/900/123",
    "+1 415 555 2671",
    "+33 1 42 68 53 00",
]

EMAILS = [
    "jo@example.org",
    "Jo.Smith@Gmail.com",
    "jo @ example . org",
    "jo at example dot org",
    "jo dot smith at gmail dot com",
    "jo [at] example [dot] co [dot] uk",
    "jo(at)example(dot)com",
    "jo {at} example {dot} org",
    "JO AT GMAIL DOT COM",
    "write to jo at gmail",
    "jo@hotmail",
    "jo_smith+buddy@nhs.net",
    "jo at example.co.uk",
    "email me: jo.smith  @  outlook . com please",
]

HARMLESS = [
    "See you on 01/02/2025 at 10.30",
    "Meet at 10:30 on 12.03.2024",
    "Tuesday 3pm to 5pm",
    "3 p.m. or 4.30pm",
    "from 2019-2024",
    "2025-03-01 14:00",
    "between 2019 and 2024",
    "I walked 10000 steps today",
    "we meet at the library. Then we go home",
    "I was at work. Co-op later",
    "meet @ 3.30",
    "my appointment is 01/02/24 10:30 - 11:45",
    "It cost £1,250.00",
    "Between 9 and 5 on weekdays",
    "Room 12, floor 3, bed 14",
    "on 01.02.2025 10.30 and 03.02.2025 11.00",
    "I have one question at two",
    "my blood sugar was 7.8 then 6.5 then 5.9",
    "score 10 out of 10",
    "HbA1c 48 mmol/mol, down from 53",
    "I take 500mg twice a day, 1000 mg in total",
    "the 14:05 bus, then the 15:20",
    "Monday 12/5, Tuesday 13/5 and Wednesday 14/5",
    "I'm at home dot dot dot waiting",
    "polka dot dress at the shop",
]


@pytest.mark.parametrize("text", PHONES)
def test_it_finds_phone_numbers_however_they_are_written(text):
    found = find_contact_details(text)
    assert any(f.kind == "phone" for f in found), text


@pytest.mark.parametrize("text", EMAILS)
def test_it_finds_email_addresses_however_they_are_written(text):
    found = find_contact_details(text)
    assert any(f.kind == "email" for f in found), text


@pytest.mark.parametrize("text", HARMLESS)
def test_it_does_not_raise_false_alarms_on_dates_times_and_numbers(text):
    assert not has_contact_details(text), find_contact_details(text)


def test_it_handles_empty_text():
    assert find_contact_details("") == []
