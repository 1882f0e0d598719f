"""What is wrong with an input, in the words of JSON and the bridge protocol.

Validation speaks pydantic's language ("Input should be a valid tuple"), which names Python
types a bridge author in another language, or an operator, has never heard of. Every
message a person reads about a rejected value is taken from `MESSAGES`, the one reviewed
table: the API's error details, the catalog's validation, the hub's reading of bridge
answers and `check-bridge`. Each entry is what follows the value's path
(`phones: must be an array`); `{name}` fields are filled from the error's context.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, get_args

import httpx
from pydantic_core import ErrorDetails
from pydantic_core.core_schema import ErrorType

_DATE_TIME = "must be a date and time in ISO 8601 (such as 2024-05-02T08:30:00Z)"
_DATE = "must be a date in ISO 8601 (such as 2024-05-02)"
_TIME = "must be a time of day (such as 08:30:00)"

WRONG_TYPE: Final[Mapping[str, str]] = MappingProxyType(
    {
        "string_type": "must be a string",
        "bytes_type": "must be a string",
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "decimal_type": "must be a number",
        "decimal_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "list_type": "must be an array",
        "tuple_type": "must be an array",
        "set_type": "must be an array",
        "frozen_set_type": "must be an array",
        "iterable_type": "must be an array",
        "dict_type": "must be an object",
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
        "dataclass_type": "must be an object",
        "typed_dict_type": "must be an object",
        "none_required": "must be null",
        "url_type": "must be a URL",
        "uuid_type": "must be a UUID",
        "datetime_type": _DATE_TIME,
        "date_type": _DATE,
        "time_type": _TIME,
        "json_type": "must be JSON text",
    }
)
"""The value is of the wrong JSON type: worth saying what was found instead."""

MESSAGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **WRONG_TYPE,
        "missing": "is required",
        "extra_forbidden": "is not a known key",
        "literal_error": "must be one of {expected}",
        "enum": "must be one of {expected}",
        "string_too_short": "must be at least {min_length} characters long",
        "string_too_long": "must be at most {max_length} characters long",
        "too_short": "must hold at least {min_length} items",
        "too_long": "must hold at most {max_length} items",
        "greater_than": "must be greater than {gt}",
        "greater_than_equal": "must be {ge} or more",
        "less_than": "must be less than {lt}",
        "less_than_equal": "must be {le} or less",
        "multiple_of": "must be a multiple of {multiple_of}",
        "finite_number": "must be a finite number",
        "string_pattern_mismatch": "must match the pattern {pattern}",
        "string_unicode": "must be text in Unicode",
        "url_parsing": "must be a URL ({error})",
        "url_syntax_violation": "must be a URL ({error})",
        "url_too_long": "must be a URL of at most {max_length} characters",
        "url_scheme": "must be a URL starting with {expected_schemes}",
        "uuid_parsing": "must be a UUID",
        "datetime_parsing": _DATE_TIME,
        "datetime_from_date_parsing": _DATE_TIME,
        "datetime_object_invalid": _DATE_TIME,
        "date_parsing": _DATE,
        "date_from_datetime_parsing": _DATE,
        "date_from_datetime_inexact": _DATE,
        "time_parsing": _TIME,
        "timezone_aware": "must carry a time zone offset (such as Z or +02:00)",
        "timezone_naive": "must not carry a time zone offset",
        "json_invalid": "must be valid JSON ({error})",
        "union_tag_invalid": "must have {discriminator} set to one of {expected_tags}",
        "union_tag_not_found": "must have a {discriminator} key",
        "frozen_field": "cannot be changed",
        "frozen_instance": "cannot be changed",
        # The hub's own checks: their sentence is the whole message.
        "value_error": "{error}",
        "assertion_error": "{error}",
    }
)

FALLBACK: Final = "is not a valid value here"
"""For a pydantic error the table does not know: vague, but never in Python's words."""

_PYDANTIC_ERRORS = frozenset(get_args(ErrorType))

_EMPTY = "must not be empty"


def plain_message(detail: ErrorDetails) -> str:
    """What is wrong with the value at `detail["loc"]`, to follow its path: `must be an
    array`. It never repeats the value, which may be a secret."""
    kind = detail["type"]
    context: Mapping[str, Any] = detail.get("ctx") or {}
    if kind in ("string_too_short", "too_short") and context.get("min_length") == 1:
        return _EMPTY
    template = MESSAGES.get(kind)
    if template is None:
        # The hub's own error types (PydanticCustomError) are written in its words already.
        return FALLBACK if kind in _PYDANTIC_ERRORS else detail["msg"]
    try:
        return template.format_map({key: _shown(key, value) for key, value in context.items()})
    except (KeyError, IndexError, ValueError):  # a context other than the table expects
        return FALLBACK


def network_failure(error: Exception, *, its_words: bool = True) -> str:
    """What went wrong on the way to another server: the HTTP client's own words (unless
    `its_words` is False: they may repeat what the server said), or the kind of failure
    (its class name would mean nothing to a person)."""
    said = str(error).strip()
    if said and its_words:
        return said
    if isinstance(error, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(error, httpx.ConnectError):
        return "no connection could be made"
    if isinstance(error, httpx.ProtocolError):
        return "the exchange broke the HTTP protocol"
    return "the connection failed"


def _shown(key: str, value: Any) -> str:
    text = str(value)
    # pydantic quotes choices the Python way: 'a', 'b' or 'c'.
    return text.replace("'", '"') if key.startswith("expected") else text
