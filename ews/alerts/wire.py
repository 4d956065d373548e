"""JSON from outside the node, bounded before it is parsed.

Every JSON document a node reads from elsewhere (a partner's pushed message, a page of a
partner's feed, a file given to ``ews import``, a message on a stream) goes through
:func:`loads`: at most ``max_bytes``, UTF-8 (RFC 8259 for JSON between systems), nested at most
:data:`MAX_DEPTH` levels, no ``NaN``/``Infinity``. The depth is checked by a scan of the raw
text before the parser runs, so 100,000 ``[`` are refused in microseconds instead of ending
in a ``RecursionError`` (which the standard parser raises, and which escaped every ``except
ValueError`` before).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, Literal

from ews.errors import InputError

MAX_DEPTH: Final = 32
"""Deepest nesting accepted. A signed message is 5 levels deep (message, envelope, payload,
evidence list, evidence item) and a feed page 2 more; 32 leaves room for new fields, while a
parser or a canonicaliser recursing 32 levels is harmless."""

WireReason = Literal["too_large", "malformed"]

# What the depth scan looks at: brackets, and the quotes and backslashes that say whether a
# bracket is inside a string. One C-level pass finds them; Python then looks at those only.
_SPECIAL = re.compile(r'[\[\]{}"\\]')
_BOM = b"\xef\xbb\xbf"


class WireError(InputError):
    """JSON refused before or while parsing; ``reason`` is ``too_large`` or ``malformed``
    (the inbox's refusal codes), ``detail`` the explanation without the reason."""

    def __init__(self, reason: WireReason, detail: str) -> None:
        self.reason: WireReason = reason
        self.detail = detail
        super().__init__(detail)


def nesting_depth(text: str, *, stop_above: int = MAX_DEPTH) -> int:
    """How deeply ``text``'s arrays and objects nest (brackets inside strings do not count);
    stops counting, and returns, as soon as the depth exceeds ``stop_above``."""
    depth = deepest = 0
    in_string = False
    skip = -1  # the position of a character escaped by a backslash
    for match in _SPECIAL.finditer(text):
        pos = match.start()
        if pos == skip:
            continue
        char = text[pos]
        if in_string:
            if char == "\\":
                skip = pos + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        elif char in "]}":
            depth -= 1
    return deepest


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(data: bytes | bytearray | str, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one JSON document from outside the node; :class:`WireError` when it is over
    ``max_bytes`` (checked first), not UTF-8, nested deeper than ``max_depth``, or not JSON."""
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise WireError("too_large", f"{size:,} bytes, more than {max_bytes:,}")
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).removeprefix(_BOM).decode("utf-8")
        except UnicodeDecodeError as exc:
            detail = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
            raise WireError("malformed", detail) from None
    else:
        text = data
    if nesting_depth(text, stop_above=max_depth) > max_depth:
        raise WireError("malformed", f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # RecursionError: only if max_depth is huge
        raise WireError("malformed", f"not JSON: {exc}") from None
