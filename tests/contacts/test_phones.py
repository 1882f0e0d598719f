"""Phone numbers as contacts are stored and callers looked up: one line written many ways is
found from any of them, different lines are told apart, and nothing read ever raises."""

from __future__ import annotations

from itertools import permutations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridgehub.contacts.phones import (
    MATCH_KEY_DIGITS,
    Match,
    lookup_keys,
    match_rank,
    normalize,
    normalize_email,
)

Writing = tuple[str, str]
"""A number as written, and the region it was written in."""

# Every writing of a line, with its E.164. Some are written in another region than the
# number's, the way an account's contacts and callers are: E.164 whatever the region.
SAME_LINE: dict[str, list[Writing]] = {
    "+14155550042": [
        ("(415) 555-0042", "US"),
        ("+1 415.555.0042", "US"),
        ("+14155550042", "US"),
        ("1 415 555 0042", "US"),
        ("415-555-0042", "US"),
        ("tel:+1-415-555-0042", "US"),
        ("0014155550042", "US"),
        ("0014155550042", "GB"),
        ("0014155550042", "DE"),
        ("00 1 415 555 0042", "PT"),
        ("+1 (415) 555-0042", "FR"),
        ("+14155550042", "ZZ"),
    ],
    "+442079460018": [
        ("020 7946 0018", "GB"),
        ("+44 20 7946 0018", "GB"),
        ("0044 20 7946 0018", "GB"),
        ("+44 (0)20 7946 0018", "GB"),
        ("011 44 20 7946 0018", "US"),
        ("00 44 20 7946 0018", "US"),
        ("0011 44 20 7946 0018", "AU"),
        ("+44 20 7946 0018", "ZZ"),
    ],
    "+351211234567": [
        ("21 123 4567", "PT"),
        ("+351 211 234 567", "PT"),
        ("211234567", "PT"),
        ("00351211234567", "ES"),
        ("+351 21 123 4567", "US"),
    ],
    "+49301234567": [
        ("030 1234567", "DE"),
        ("(030) 123 45 67", "DE"),
        ("+49 30 1234567", "DE"),
        ("0049 30 1234567", "PT"),
        ("+49 (0)30 1234567", "GB"),
    ],
    "+33123456789": [
        ("01 23 45 67 89", "FR"),
        ("01.23.45.67.89", "FR"),
        ("+33 1 23 45 67 89", "FR"),
        ("+33 (0)1 23 45 67 89", "FR"),
        ("0033 1 23 45 67 89", "DE"),
    ],
    "+5511912345678": [
        ("(11) 91234-5678", "BR"),
        ("011 91234 5678", "BR"),
        ("0 21 11 91234-5678", "BR"),  # the trunk prefix with a carrier code
        ("+55 11 91234-5678", "BR"),
        ("+55 (11) 9 1234-5678", "US"),
    ],
    "+919876543210": [
        ("098765 43210", "IN"),
        ("9876543210", "IN"),
        ("+91 98765 43210", "IN"),
        ("+91-9876543210", "US"),
        ("011 91 98765 43210", "US"),
    ],
    "+390612345678": [
        ("06 1234 5678", "IT"),  # Italian numbers keep their leading zero
        ("+39 06 1234 5678", "IT"),
        ("+390612345678", "DE"),
    ],
    "+18003569377": [
        ("1-800-FLOWERS", "US"),
        ("+1 800 FLOWERS", "ZZ"),
        ("1 (800) 356-9377", "US"),
    ],
    "+14155550142": [
        ("+1 415 555 0142 ext. 12", "US"),
        ("415-555-0142 x12", "US"),
        ("(415) 555-0142 #12", "US"),
        ("+1 415 555 0142;ext=12", "US"),
        ("tel:+1-415-555-0142;ext=12", "US"),
        ("+1 415 555 0142 extension 7", "GB"),
        ("+1 415 555 0142", "US"),
    ],
}

# A line written nationally in another region than its own: not E.164 there, yet found by
# its key, and how surely.
FOREIGN_NATIONAL: list[tuple[Writing, str, Match]] = [
    (("415 555 0042", "GB"), "+14155550042", Match.NATIONAL),
    (("415 555 0042", "PT"), "+14155550042", Match.NATIONAL),
    (("1 415 555 0042", "GB"), "+14155550042", Match.SUFFIX),
    (("020 7946 0018", "US"), "+442079460018", Match.SUFFIX),
    (("44 20 7946 0018", "US"), "+442079460018", Match.SUFFIX),
    (("21 123 4567", "US"), "+351211234567", Match.NATIONAL),
    (("030 1234567", "US"), "+49301234567", Match.SUFFIX),
    (("01 23 45 67 89", "US"), "+33123456789", Match.SUFFIX),
    (("98765 43210", "US"), "+919876543210", Match.NATIONAL),
]

# Different lines whose keys are equal, told apart by their rank.
SAME_KEY_OTHER_LINE: list[tuple[Writing, Writing]] = [
    (("(315) 555-0042", "US"), ("+1 415 555 0042", "US")),
    (("020 7946 0018", "GB"), ("+1 207 946 0018", "US")),
    (("+33 1 23 45 67 89", "FR"), ("+351 123 456 789", "PT")),
]

GARBAGE = [
    "",
    "   ",
    "n/a",
    "N/A",
    "call me",
    "unknown",
    "-",
    "12",
    "0000000000",
    "+1 000 000 0000",
    "9999999999",
]

ALL_WRITINGS = [
    pytest.param(e164, raw, region, id=f"{raw} ({region})")
    for e164, writings in SAME_LINE.items()
    for raw, region in writings
]


@pytest.mark.parametrize(("e164", "raw", "region"), ALL_WRITINGS)
def test_each_writing_reads_as_its_line(e164: str, raw: str, region: str) -> None:
    number = normalize(raw, region)
    assert number.raw == raw.strip()
    assert number.e164 == e164
    assert number.match_key == e164[-MATCH_KEY_DIGITS:]


@pytest.mark.parametrize("e164", SAME_LINE)
def test_every_writing_of_a_line_finds_every_other(e164: str) -> None:
    for (stored, stored_region), (incoming, incoming_region) in permutations(SAME_LINE[e164], 2):
        number = normalize(stored, stored_region)
        keys = lookup_keys(incoming, incoming_region)
        assert (keys.e164, keys.match_key) == (number.e164, number.match_key)
        assert match_rank(number, keys) is Match.EXACT, (stored, incoming)


def test_the_lines_differ_in_their_keys() -> None:
    keys = {e164[-MATCH_KEY_DIGITS:] for e164 in SAME_LINE}
    assert len(keys) == len(SAME_LINE)


@pytest.mark.parametrize(
    ("writing", "e164", "rank"),
    [pytest.param(w, e, r, id=f"{w[0]} ({w[1]})") for w, e, r in FOREIGN_NATIONAL],
)
def test_a_line_written_for_another_region_is_found_by_its_key(
    writing: Writing, e164: str, rank: Match
) -> None:
    foreign = normalize(*writing)
    assert foreign.e164 is None
    assert foreign.match_key == e164[-MATCH_KEY_DIGITS:]
    for raw, region in SAME_LINE[e164]:
        assert match_rank(foreign, lookup_keys(raw, region)) is rank
        assert match_rank(normalize(raw, region), lookup_keys(*writing)) is rank


@pytest.mark.parametrize(("stored", "incoming"), SAME_KEY_OTHER_LINE)
def test_lines_sharing_only_their_last_digits_do_not_match(
    stored: Writing, incoming: Writing
) -> None:
    number, keys = normalize(*stored), lookup_keys(*incoming)
    assert number.match_key == keys.match_key
    assert number.e164 != keys.e164
    assert match_rank(number, keys) is Match.NONE


def test_numbers_differing_in_their_last_digits_have_different_keys() -> None:
    keys = {normalize(f"+1 415 555 00{n:02}", "US").match_key for n in range(100)}
    assert len(keys) == 100


@pytest.mark.parametrize("raw", GARBAGE)
@pytest.mark.parametrize("region", ["US", "GB", "ZZ"])
def test_what_is_not_a_number_has_no_keys(raw: str, region: str) -> None:
    number = normalize(raw, region)
    assert (number.e164, number.match_key) == (None, None)
    assert match_rank(number, lookup_keys(raw, region)) is Match.NONE


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("555-0042", "US"),  # a local number: no area code
        ("+1 555 0042", "US"),
        ("415 555 0042", "ZZ"),  # a national number with no region to read it in
    ],
)
def test_a_number_that_cannot_be_told_apart_has_no_keys(raw: str, region: str) -> None:
    number = normalize(raw, region)
    assert (number.e164, number.match_key) == (None, None)
    assert number.raw == raw


def test_a_region_reads_whatever_its_case() -> None:
    assert normalize("020 7946 0018", "gb") == normalize("020 7946 0018", "GB")


def test_candidates_order_exact_then_national_then_suffix() -> None:
    stored = [
        normalize("1 415 555 0042", "GB"),  # a trunk digit left in: suffix
        normalize("(315) 555-0042", "US"),  # another line
        normalize("+1 415 555 0042", "US"),  # the line itself
        normalize("415 555 0042", "GB"),  # no country code: national
    ]
    incoming = lookup_keys("0014155550042", "DE")
    assert {number.match_key for number in stored} == {incoming.match_key}
    ranked = sorted(stored, key=lambda number: match_rank(number, incoming), reverse=True)
    assert [match_rank(number, incoming) for number in ranked] == [
        Match.EXACT,
        Match.NATIONAL,
        Match.SUFFIX,
        Match.NONE,
    ]
    assert ranked[0].raw == "+1 415 555 0042"


# --- properties -------------------------------------------------------------------------

# The properties below have no deadline: libphonenumber loads a region's metadata when it first
# meets it, which on a busy machine takes longer than hypothesis's default deadline.
REGIONS = st.sampled_from(["US", "GB", "PT", "DE", "FR", "BR", "IN", "IT", "AU", "ZZ"])
DIGITS = st.text(alphabet="0123456789", max_size=20)
COUNTRY_CODES = st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE))


@settings(max_examples=300, database=None, deadline=None)
@given(
    digits=DIGITS,
    prefix=st.sampled_from(["", "+", "00", "011", "0", "tel:+"]),
    region=REGIONS,
    other_region=REGIONS,
)
# Parse strips Austria's trunk prefix after its country code, leaving leading zeros that
# another reading would strip again.
@example(digits="43000001", prefix="+", region="US", other_region="US")
def test_any_digits_read_the_same_way_each_time(
    digits: str, prefix: str, region: str, other_region: str
) -> None:
    raw = prefix + digits
    number = normalize(raw, region)
    # Padded, the writing is read afresh (not from the cache): same number, same keys.
    assert normalize(f" {raw}\t", region) == number
    assert number.e164 is None or number.match_key is not None
    if number.e164 is not None:
        again = normalize(number.e164, other_region)
        assert (again.e164, again.match_key) == (number.e164, number.match_key)


@settings(max_examples=300, database=None, deadline=None)
@given(text=st.text(max_size=40), region=REGIONS)
def test_any_text_is_read_without_raising(text: str, region: str) -> None:
    number = normalize(text, region)
    assert number.raw == text.strip()


GROUPINGS = st.lists(st.sampled_from([" ", ".", "-", "(", ")"]), max_size=4)


def _grouped(digits: str, separators: list[str], cuts: list[int]) -> str:
    pieces, start = [], 0
    for separator, cut in zip(separators, sorted(cuts), strict=False):
        pieces += [digits[start:cut], separator]
        start = cut
    return "".join(pieces) + digits[start:]


# Slashes are punctuation to libphonenumber, like spaces, dots, dashes and parentheses,
# but keep a writing off the fast path for grouped digits: parse reads it.
@settings(max_examples=500, database=None, deadline=None)
@given(
    country_code=COUNTRY_CODES,
    national=st.text(alphabet="0123456789", min_size=4, max_size=13),
    separators=GROUPINGS,
    cuts=st.lists(st.integers(min_value=1, max_value=12), max_size=4),
    scheme=st.sampled_from(["", "tel:"]),
)
# Parse strips a trunk prefix even after a country code, and keeps Italian leading zeros.
@example(country_code=1, national="14155550042", separators=[" "], cuts=[3], scheme="")
@example(country_code=7, national="89161234567", separators=[], cuts=[], scheme="tel:")
@example(country_code=44, national="02079460018", separators=["(", ")"], cuts=[1, 1], scheme="")
@example(country_code=39, national="0612345678", separators=[], cuts=[], scheme="")
def test_international_digits_read_as_libphonenumber_parses_them(
    country_code: int, national: str, separators: list[str], cuts: list[int], scheme: str
) -> None:
    grouped = f"{scheme}+{country_code} {_grouped(national, separators, cuts)}"
    parsed_by_libphonenumber = f"+{country_code}/{national}"
    for region in ("US", "ZZ"):
        fast, parsed = normalize(grouped, region), normalize(parsed_by_libphonenumber, region)
        assert (fast.e164, fast.national_number) == (parsed.e164, parsed.national_number)


@settings(max_examples=500, database=None, deadline=None)
@given(
    region=REGIONS,
    # Writings starting with 0 (a trunk or international prefix) are all left to parse.
    national=st.from_regex(r"[1-9][0-9]{3,14}", fullmatch=True),
    separators=GROUPINGS,
    cuts=st.lists(st.integers(min_value=1, max_value=14), max_size=4),
)
# What parse strips from a national writing: a trunk prefix, the region's own country code.
@example(region="US", national="14155550042", separators=[], cuts=[])
@example(region="FR", national="33123456789", separators=[" "], cuts=[2])
@example(region="GB", national="2079460018", separators=["(", ")"], cuts=[1, 3])
def test_national_digits_read_as_libphonenumber_parses_them(
    region: str, national: str, separators: list[str], cuts: list[int]
) -> None:
    fast = normalize(_grouped(national, separators, cuts), region)
    parsed = normalize("/".join(national), region)
    assert (fast.e164, fast.national_number) == (parsed.e164, parsed.national_number)


def test_a_rank_is_the_same_both_ways() -> None:
    writings = [w for line in SAME_LINE.values() for w in line] + [
        w for w, _, _ in FOREIGN_NATIONAL
    ]
    numbers = [normalize(*w) for w in writings]
    for a, b in permutations(numbers, 2):
        assert match_rank(a, b) is match_rank(b, a)


# --- e-mail addresses -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "email"),
    [
        ("Jane.Doe@Example.COM", "jane.doe@example.com"),
        ("  jane@example.com\n", "jane@example.com"),
        ('"odd@local"@example.com', '"odd@local"@example.com'),
        ("", None),
        ("   ", None),
        ("n/a", None),
        ("jane.example.com", None),
        ("@example.com", None),
        ("jane@", None),
        ("@", None),
    ],
)
def test_email_addresses_are_trimmed_and_lower_cased(raw: str, email: str | None) -> None:
    assert normalize_email(raw) == email
