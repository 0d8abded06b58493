"""Find phone numbers and e-mail addresses that people type into messages.

Buddies keep contact on the platform unless their programme allows sharing details, so a message
that looks like it holds a phone number or e-mail address is held back. People write these in
many ways ("07700 900 123", "+44 (0)7700-900123", "oh seven seven double oh...", "jo dot smith at
gmail dot com", "jo [at] example [dot] org"), so the text is normalised first. Dates and times
("01/02/2025 at 10.30") are masked before looking for numbers, so they do not raise false alarms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER_WORDS = {
    "zero": "0",
    "nought": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_WORD = "|".join(_NUMBER_WORDS)
_REPEAT_RE = re.compile(rf"\b(double|triple)[\s-]+({_WORD}|\d)\b")
_WORD_RE = re.compile(rf"\b({_WORD})\b")
_LETTER_O_RE = re.compile(r"(?<![a-z])o(?=\s?\d)|(?<=\d)o(?=\d)|(?<=\d )o(?=\d)")
_DATE_RE = re.compile(
    r"(?<![\d+])\d{1,2}\s?[/.\-]\s?\d{1,2}(?:\s?[/.\-]\s?(?:\d{4}|\d{2}))?(?![\d])"
)
_ISO_DATE_RE = re.compile(r"(?<!\d)\d{4}-\d{1,2}-\d{1,2}(?!\d)")
_TIME_RE = re.compile(
    r"(?<!\d)\d{1,2}(?::\d{2}){1,2}(?:\s?[ap]\.?m\.?)?(?!\d)|(?<!\d)\d{1,2}\s?[ap]\.?m\b"
)
_YEAR_RANGE_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}\s?[-/]\s?(?:19|20)?\d{2}(?!\d)")
_RUN_RE = re.compile(r"(?:\+|\b00)?\s?\d[\d\s.\-()/]*\d")

_TLDS = (
    "com|co|uk|org|net|info|me|io|ac|gov|nhs|edu|biz|eu|ie|de|fr|es|it|nl|pl|in|pk|us|ca|au|"
    "scot|wales|cymru|email|online|live"
)
_PROVIDERS = (
    "gmail|googlemail|hotmail|outlook|yahoo|icloud|btinternet|live|aol|protonmail|proton|"
    "sky|virginmedia|talktalk|ymail|msn|me"
)
_AT_WORDS = re.compile(r"\s*[\(\[\{<]\s*(?:at|@)\s*[\)\]\}>]\s*")
_DOT_WORDS = re.compile(r"\s*[\(\[\{<]\s*(?:dot|\.)\s*[\)\]\}>]\s*|\s+dot\s+")
_EMAIL_EXPLICIT = re.compile(
    r"[a-z0-9][\w.+\-]*\s?@\s?[a-z][a-z0-9\-]*(?:\s?\.\s?[a-z][a-z0-9\-]*)*\s?\.\s?[a-z]{2,}\b"
)
_EMAIL_SPOKEN = re.compile(
    rf"[a-z0-9][\w.+\-]*\s+at\s+[a-z][a-z0-9\-]*(?:\.[a-z][a-z0-9\-]*)*\.(?:{_TLDS})\b"
)
_EMAIL_PROVIDER = re.compile(rf"[a-z0-9][\w.+\-]*\s*(?:@|\s+at)\s*(?:{_PROVIDERS})\b")


@dataclass(frozen=True)
class Finding:
    kind: str  # "phone" or "email"
    text: str


def _normalise(text: str) -> str:
    text = text.lower().replace("\u00a0", " ")
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return text


def _spell_out_numbers(text: str) -> str:
    def repeat(match: re.Match) -> str:
        digit = _NUMBER_WORDS.get(match.group(2), match.group(2))
        return digit * (2 if match.group(1) == "double" else 3)

    text = _REPEAT_RE.sub(repeat, text)
    text = _WORD_RE.sub(lambda m: _NUMBER_WORDS[m.group(1)], text)
    return _LETTER_O_RE.sub("0", text)


def _is_phone(digits: str, international: bool) -> bool:
    if digits.startswith("00"):
        digits, international = digits[2:], True
    if international:
        if digits.startswith("44"):
            return len(digits) - 2 in (9, 10)
        return 8 <= len(digits) <= 15
    if digits.startswith("0"):
        return len(digits) in (10, 11)
    return digits.startswith("7") and len(digits) == 10


def _phones(text: str) -> list[Finding]:
    text = _spell_out_numbers(text)
    text = text.replace("(0)", " ")
    for pattern in (_ISO_DATE_RE, _YEAR_RANGE_RE, _TIME_RE, _DATE_RE):
        text = pattern.sub(" ~ ", text)
    found = []
    for run in _RUN_RE.finditer(text):
        raw = run.group(0)
        groups = re.findall(r"\d+", raw)
        international = raw.lstrip().startswith("+")
        for start in range(len(groups)):
            digits = ""
            for end in range(start, min(len(groups), start + 15)):
                digits += groups[end]
                if len(digits) > 15:
                    break
                if _is_phone(digits, international and start == 0):
                    found.append(Finding("phone", raw.strip()))
                    break
            else:
                continue
            break
    return found


def _emails(text: str) -> list[Finding]:
    text = _AT_WORDS.sub("@", text)
    text = _DOT_WORDS.sub(".", text)
    found = []
    for pattern in (_EMAIL_EXPLICIT, _EMAIL_SPOKEN, _EMAIL_PROVIDER):
        found.extend(Finding("email", m.group(0)) for m in pattern.finditer(text))
    return found


def find_contact_details(text: str) -> list[Finding]:
    """Every phone number and e-mail address found in `text` (as written, after normalising)."""
    text = _normalise(text or "")
    return _emails(text) + _phones(text)


def has_contact_details(text: str) -> bool:
    return bool(find_contact_details(text))
