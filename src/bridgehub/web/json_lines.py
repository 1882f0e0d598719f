"""Where each value of a JSON text sits, so that a problem reported at a path such as
`authentication_configuration[1].email.mandatory` can be shown next to its line."""

from __future__ import annotations

import json
import re
from bisect import bisect_right

from bridgehub.kit.paths import format_path

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


class JsonLines:
    """Line numbers (from 1) of the paths in a JSON text that `json.loads` accepts."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._line_starts = [0] + [match.end() for match in re.finditer("\n", text)]
        self._lines: dict[str, int] = {}
        self._value(self._skip(0), ())

    def line_of(self, path: str) -> int:
        """The line of `path`; for a path the text lacks (a missing key), the line of the
        nearest enclosing value that it has."""
        while path not in self._lines and path:
            path = _parent(path)
        return self._lines.get(path, 1)

    def _line(self, index: int) -> int:
        return bisect_right(self._line_starts, index)

    def _skip(self, index: int) -> int:
        match = _WHITESPACE.match(self._text, index)
        assert match is not None  # it matches the empty string
        return match.end()

    def _record(self, location: tuple[str | int, ...], index: int) -> None:
        self._lines.setdefault(format_path(location), self._line(index))

    def _value(self, index: int, location: tuple[str | int, ...]) -> int:
        """Scan the value at `index`; answers the index after it."""
        self._record(location, index)
        opening = self._text[index]
        if opening == "{":
            return self._object(index + 1, location)
        if opening == "[":
            return self._array(index + 1, location)
        match = (_STRING if opening == '"' else _SCALAR).match(self._text, index)
        assert match is not None, "only texts json.loads accepts are scanned"
        return match.end()

    def _object(self, index: int, location: tuple[str | int, ...]) -> int:
        index = self._skip(index)
        while self._text[index] != "}":
            match = _STRING.match(self._text, index)
            assert match is not None
            key: str = json.loads(match.group())
            self._record((*location, key), index)
            index = match.end()
            index = self._skip(self._skip(index) + 1)  # past the colon
            index = self._skip(self._value(index, (*location, key)))
            if self._text[index] == ",":
                index = self._skip(index + 1)
        return index + 1

    def _array(self, index: int, location: tuple[str | int, ...]) -> int:
        index = self._skip(index)
        position = 0
        while self._text[index] != "]":
            index = self._skip(self._value(index, (*location, position)))
            position += 1
            if self._text[index] == ",":
                index = self._skip(index + 1)
        return index + 1


def _parent(path: str) -> str:
    """`a.b[2]` for `a.b[2].c`, `a.b` for `a.b[2]`, `` for `a`."""
    cut = max(path.rfind("."), path.rfind("["))
    # A quoted key may itself hold dots or brackets: cut before its opening `["`.
    quoted = path.rfind('["')
    if path.endswith('"]') and quoted >= 0:
        cut = quoted
    return path[: max(cut, 0)]
