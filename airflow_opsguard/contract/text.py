"""Values quoted in error messages, cut to a bounded length.

An error message names what is wrong, and quoting the value helps; but the value comes
from a file that anyone may have written, and a message must stay one readable line
whatever the input (a 5 MB string, a list of a million items, a number of 4,000
digits). Every message that quotes a value quotes it through :func:`short_repr` or
:func:`clip`.
"""

from __future__ import annotations

from itertools import islice

# Characters of a value quoted in a message.
QUOTE_LIMIT = 80


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` on one line and at most ``limit`` characters, ending in "…" when cut."""
    head = text[: limit * 4 + 1]  # enough to fill the limit once whitespace is folded
    flat = " ".join(head.split()) if any(c in head for c in "\n\r\t\v\f") else head
    cut = len(text) > len(head) or len(flat) > limit
    return flat[: limit - 1] + "…" if cut else flat


def short_repr(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` in at most ``limit`` characters, built without ever making the
    full repr of a huge string, number or container."""
    return clip(_repr(value, limit, depth=0), limit)


def _repr(value: object, limit: int, depth: int) -> str:
    if isinstance(value, str | bytes):
        return repr(value[: limit + 1])
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > limit * 3.33:  # more digits than the limit
            return f"<a whole number of {value.bit_length() * 0.30103:.0f} digits>"
        return repr(value)
    if isinstance(value, list | tuple | set | frozenset | dict):
        if depth >= 3:
            return "…"
        if isinstance(value, dict):
            parts = [
                f"{_repr(k, limit, depth + 1)}: {_repr(v, limit, depth + 1)}"
                for k, v in islice(value.items(), 8)
            ]
        else:
            parts = [_repr(item, limit, depth + 1) for item in islice(value, 8)]
        more = ", …" if len(value) > 8 else ""
        brackets = {dict: "{}", list: "[]", tuple: "()"}.get(type(value), "{}")
        return f"{brackets[0]}{', '.join(parts)}{more}{brackets[1]}"
    try:
        return repr(value)[: limit + 1]
    except (ValueError, RecursionError):  # a number too long to print, a cycle
        return f"<a {type(value).__name__}>"
