"""One more ask before a negative conclusion: the harness's rule that one failed request must not
decide that a target does not offer something (and so switch a check off).

:func:`asked_twice` asks once, and once more when the answer is ``unclear`` (no code, a 5xx, no
page, no ``iss``: whatever the caller would otherwise read as "not offered"). The caller decides
what a second unclear answer means: a failure when it is a server fault, else the conclusion it
was about to draw, now resting on two answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def asked_twice(ask: Callable[[], T], unclear: Callable[[T], bool]) -> tuple[T, T | None]:
    """The answer that counts, and the first answer when it was unclear and a second was asked
    (None when the first was clear)."""
    first = ask()
    if not unclear(first):
        return first, None
    return ask(), first
