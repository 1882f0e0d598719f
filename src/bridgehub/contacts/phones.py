"""Phone numbers and e-mail addresses as contacts are stored and callers are looked up.

CRMs and helpdesks write one line in many ways (`(415) 555-0042`, `+1 415.555.0042`,
`0014155550042`, `tel:+1-415-555-0042`), often without its country code, and a call arrives
in yet another. Each number is read once with libphonenumber into two keys:

- `e164`, the exact number, when the writing says which line it is: an explicit country
  code (`+`, or an international prefix such as `00` or `011`) and a possible length, or,
  written nationally, a number valid in the account's region. A national number that is
  not valid there (`415 555 0042` in a British account) is likely from another country: it
  gets no E.164, so that it is not taken for a different, British line.
- `match_key`, the last `MATCH_KEY_DIGITS` digits of the national significant number. It is
  what a lookup searches (every exact match shares it too): it finds the same line when
  one writing lacks its country code, or keeps a trunk prefix or country code that
  libphonenumber could not strip because the number was read for the wrong region
  (`020 7946 0018` read in the US is `02079460018`, `44 20 7946 0018` is `442079460018`).

Candidates sharing a key are then ranked by `match_rank`, which also throws out those that
share only the digits: two numbers whose E.164 are both known and differ are different
lines, whatever their last digits (`+1 415 555 0042` and `+1 315 555 0042`, or a London
and a Maine number with the same ten digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from functools import cache, lru_cache
from typing import Literal, NamedTuple

import phonenumbers
from phonenumbers import (
    CountryCodeSource,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberFormat,
    ValidationResult,
)

MATCH_KEY_DIGITS = 9
"""How many trailing digits of the national number the key keeps.

Nine is the whole number in the 9-digit plans (France, Portugal, Spain, Belgium, Switzerland,
the Netherlands...), so those still match when read with a leftover trunk prefix or country
code, and leaves out only the first digit of 10-digit plans (the US, the UK, India), so
different lines rarely share a key, and `match_rank` tells those apart. Fewer digits would
find more and tell apart less: a number of 7 or 8 digits that is not possible as written
(`555-0042`, a local number without its area code) gets no key, rather than matching every
area code's line that ends the same way. The price: a number of an 8-digit plan (Denmark,
Norway, Singapore, Hong Kong) is missed when one writing keeps a prefix (`45 12 34 56 78`
read in the US); written with `+` or nationally in its region, it is found."""

_CACHED_NUMBERS = 16_384
"""Numbers repeat: a company's switchboard on many contacts, regular callers, the same
contacts at every incremental sync. Each cached number costs about 400 bytes."""

_PLAIN = re.compile(r"\+?[(0-9][0-9 .\-()]*")
_GROUPING = re.compile(r"[ .\-()]")
_NATIONAL_DIGITS = re.compile(r"[1-9][0-9]{3,13}")
"""A national number E.164 can hold, without the leading zero parse would keep apart."""
_EXPLICIT_COUNTRY = (
    CountryCodeSource.FROM_NUMBER_WITH_PLUS_SIGN,
    CountryCodeSource.FROM_NUMBER_WITH_IDD,
)
_LONGEST_COUNTRY_CODE = 3


@dataclass(frozen=True, slots=True)
class LookupKeys:
    """What a number is found by: the lookup searches `match_key`, then orders the
    candidates with `match_rank`."""

    e164: str | None
    national_number: str | None
    """The digits libphonenumber read after the country code, including any prefix it could
    not strip; None when the number cannot be matched at all."""

    @property
    def match_key(self) -> str | None:
        if self.national_number is None:
            return None
        return self.national_number[-MATCH_KEY_DIGITS:]


@dataclass(frozen=True, slots=True)
class PhoneNumber(LookupKeys):
    """A phone number of a contact: its keys, and how it was written (stripped)."""

    raw: str


class Match(IntEnum):
    """How surely a stored number is the incoming one; higher is surer."""

    NONE = 0
    SUFFIX = 1
    """One national number ends with the other: a trunk prefix or country code was left in."""
    NATIONAL = 2
    """The same national number, without a country code on at least one side."""
    EXACT = 3

    @property
    def word(self) -> MatchWord:
        """How the API names a match (NONE is no match, and has no word)."""
        return _MATCH_WORDS[self]


MatchWord = Literal["partial", "national", "exact"]
_MATCH_WORDS: dict[Match, MatchWord] = {
    Match.SUFFIX: "partial",
    Match.NATIONAL: "national",
    Match.EXACT: "exact",
}


def normalize(raw: str, default_region: str) -> PhoneNumber:
    """Read a number as written. One written without its country code is read as a number
    of `default_region` (ISO 3166-1 alpha-2; with "ZZ", none, only international writings
    are read)."""
    return _normalize(raw, default_region.upper())


def lookup_keys(incoming: str, default_region: str) -> LookupKeys:
    """The keys to look an incoming caller up with, `default_region` being the region of the
    line the call arrived on."""
    number = normalize(incoming, default_region)
    return LookupKeys(e164=number.e164, national_number=number.national_number)


def match_rank(stored: LookupKeys, incoming: LookupKeys) -> Match:
    """How surely `stored` is the incoming number; `Match.NONE` for a candidate that shares
    only its key's digits."""
    if stored.e164 is not None and stored.e164 == incoming.e164:
        return Match.EXACT
    if stored.e164 is not None and incoming.e164 is not None:
        return Match.NONE
    if stored.national_number is None or incoming.national_number is None:
        return Match.NONE
    if stored.national_number == incoming.national_number:
        return Match.NATIONAL
    shorter, longer = sorted((stored.national_number, incoming.national_number), key=len)
    if len(shorter) >= MATCH_KEY_DIGITS and longer.endswith(shorter):
        return Match.SUFFIX
    return Match.NONE


def normalize_email(raw: str) -> str | None:
    """An e-mail address trimmed and lower-cased, so that lookups ignore how it was typed;
    None when it is not an address (no `@` between something and something)."""
    email = raw.strip().lower()
    local, _, domain = email.rpartition("@")
    return email if local and domain else None


class _Reading(NamedTuple):
    national_number: str
    e164: str | None


@lru_cache(maxsize=_CACHED_NUMBERS)
def _normalize(raw: str, region: str) -> PhoneNumber:
    written = raw.strip()
    reading = _read_plainly(written, region) or _read(written, region)
    if reading is None or not _is_matchable(reading):
        return PhoneNumber(e164=None, national_number=None, raw=written)
    return PhoneNumber(e164=reading.e164, national_number=reading.national_number, raw=written)


def _is_matchable(reading: _Reading) -> bool:
    """Not a placeholder (`0000000000`, `9999999999`: what forms hold when there is no
    number, and some networks send for a withheld one), and either a whole number or one long
    enough for its key not to be a mere local number's."""
    digits = reading.national_number
    if not digits or digits == digits[0] * len(digits):
        return False
    return reading.e164 is not None or len(reading.national_number) >= MATCH_KEY_DIGITS


def _read_plainly(written: str, region: str) -> _Reading | None:
    """A number written as digits grouped by spaces, dots, dashes or parentheses, after a
    `+` and its country code (`+14155550042`, `+1 (415) 555-0042`, `tel:+33-1-23-45-67-89`)
    or nationally (`(415) 555-0042`), read without libphonenumber's parse: the main cost of a
    sync, for the writings most systems hold.

    None, leaving it to `_read`, when parse could read it differently: other characters
    (an extension, a `tel:` URI's parameters), a country code it does not know, or a number
    that could start with a prefix parse would strip (a trunk prefix, even after a country
    code: `+1 1 415`; an international prefix; the region's own country code; a leading
    zero)."""
    plain = written.removeprefix("tel:")  # a URI without parameters holds just the number
    if not _PLAIN.fullmatch(plain):
        return None
    digits = _GROUPING.sub("", plain)
    if digits.startswith("+"):
        split = _split_country_code(digits[1:])
        if split is None:
            return None
        country_code, national_number = split
        return _read_digits(_plan_of_country(country_code), national_number, explicit=True)
    plan = _plan_of_region(region)
    if plan is None or (plan.international_prefix and plan.international_prefix.match(digits)):
        return None
    if digits.startswith(str(plan.country_code)):
        return None
    return _read_digits(plan, digits, explicit=False)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What reading digits without parse needs to know of a numbering plan."""

    country_code: int
    trunk_prefix: re.Pattern[str] | None
    international_prefix: re.Pattern[str] | None


def _read_digits(plan: _Plan | None, national_number: str, explicit: bool) -> _Reading | None:
    if plan is None or not _NATIONAL_DIGITS.fullmatch(national_number):
        return None
    if plan.trunk_prefix and plan.trunk_prefix.match(national_number):
        return None
    whole = _is_possible_length(plan.country_code, len(national_number)) and (
        explicit
        or phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(
                country_code=plan.country_code, national_number=int(national_number)
            )
        )
    )
    return _Reading(national_number, f"+{plan.country_code}{national_number}" if whole else None)


@cache
def _plan_of_country(country_code: int) -> _Plan | None:
    region = phonenumbers.region_code_for_country_code(country_code)
    return _plan(PhoneMetadata.metadata_for_region_or_calling_code(country_code, region))


@cache
def _plan_of_region(region: str) -> _Plan | None:
    return _plan(PhoneMetadata.metadata_for_region(region))


def _plan(metadata: PhoneMetadata | None) -> _Plan | None:
    if metadata is None or metadata.country_code is None:
        return None
    return _Plan(
        country_code=metadata.country_code,
        trunk_prefix=_pattern(metadata.national_prefix_for_parsing),
        international_prefix=_pattern(metadata.international_prefix),
    )


def _pattern(expression: str | None) -> re.Pattern[str] | None:
    return re.compile(expression) if expression else None


@cache
def _is_possible_length(country_code: int, length: int) -> bool:
    # libphonenumber tells a possible number by its plan's lengths alone.
    return _is_possible(
        phonenumbers.PhoneNumber(country_code=country_code, national_number=int("1" * length))
    )


def _split_country_code(digits: str) -> tuple[int, str] | None:
    # Country codes are prefix-free: at most one of the first 1, 2 or 3 digits is one.
    for length in range(1, _LONGEST_COUNTRY_CODE + 1):
        if (code := int(digits[:length])) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return code, digits[length:]
    return None


def _read(written: str, region: str) -> _Reading | None:
    reading = _reading(_parse(written, region))
    if written.startswith("00") and (reading is None or reading.e164 is None):
        # 00 is the international prefix of most of the world, and what people write for +
        # even where another one is dialled (011 in the US).
        international = _reading(_parse("+" + written[2:], region))
        if international is not None and international.e164 is not None:
            return international
    return reading


def _reading(number: phonenumbers.PhoneNumber | None) -> _Reading | None:
    if number is None:
        return None
    national_number = phonenumbers.national_significant_number(number)
    e164 = _e164(number)
    if e164 is not None and number.italian_leading_zero and not _reads_back(e164, national_number):
        # Parse strips a trunk prefix even after a country code, so a number it kept with
        # leading zeros (`+43 0 0001` read as `+43 00001`) would read as another line again.
        e164 = None
    return _Reading(national_number, e164)


def _reads_back(e164: str, national_number: str) -> bool:
    again = _parse(e164, "ZZ")
    return again is not None and phonenumbers.national_significant_number(again) == national_number


def _parse(written: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        # keep_raw_input records where the country code came from.
        return phonenumbers.parse(written, region, keep_raw_input=True)
    except NumberParseException:
        return None


def _e164(number: phonenumbers.PhoneNumber) -> str | None:
    explicit_country = number.country_code_source in _EXPLICIT_COUNTRY
    if _is_possible(number) and (explicit_country or phonenumbers.is_valid_number(number)):
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return None


def _is_possible(number: phonenumbers.PhoneNumber) -> bool:
    # Not IS_POSSIBLE_LOCAL_ONLY: a number missing its area code is not a whole E.164.
    return phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE
