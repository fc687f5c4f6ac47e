"""Strict ``application/x-www-form-urlencoded`` parsing for the token endpoint.

OAuth 2.1 section 3.2: parameters sent without a value are treated as omitted, unrecognized
parameters are ignored, and request and response parameters MUST NOT be included more than
once. ``resource`` is the one parameter that may repeat (RFC 8707 section 2).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from oauth_reference.errors import InvalidRequestError

REPEATABLE = frozenset({"resource"})


class FormParams:
    """Decoded parameters with empty values dropped and repeats refused."""

    __slots__ = ("_multi", "_single")

    def __init__(self, pairs: list[tuple[str, str]], repeatable: frozenset[str] = REPEATABLE) -> None:
        single: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            if value == "":  # OAUTH21-3.2-EMPTY-PARAM
                continue
            if name in repeatable:
                multi.setdefault(name, []).append(value)
            elif name in single:  # OAUTH21-3.2-NO-DUPLICATES, ROBUST-HOSTILE-DUPLICATE-PARAMS
                raise InvalidRequestError(f'parameter "{name}" must not be repeated')
            else:
                single[name] = value
        self._single = single
        self._multi = multi

    def get(self, name: str) -> str | None:
        return self._single.get(name)

    def get_all(self, name: str) -> list[str]:
        return self._multi.get(name, [])

    def __contains__(self, name: str) -> bool:
        return name in self._single or name in self._multi


def parse_pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError("the body is not valid form-urlencoded UTF-8 with at most 100 fields") from exc


def parse_form(body: bytes) -> FormParams:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:  # ROBUST-HOSTILE-ENCODING
        raise InvalidRequestError("the body is not valid UTF-8") from exc
    return FormParams(parse_pairs(text))
