"""Text a person reads, safe from hostile data: no terminal control characters. Pure, standard library only.

Account names come from Organizations and any member account admin can rename their account, so a name
may carry terminal escape sequences (``\\x1b[2J`` clears the screen, ``\\x1b]8;;URL\\x1b\\\\`` hides a link,
``\\x9b`` is the one-byte CSI), BEL, backspace or a carriage return that overwrites what was printed before.
:func:`plain_text` is applied to every data value that reaches a terminal or an email: the CLI table and
the alert's subject and body. Machine formats (JSON, the alert document) stay faithful: JSON escapes
control characters itself.
"""

from __future__ import annotations

import re

#: C0 controls, DEL and C1 controls (U+0080-U+009F, which some terminals obey as 8-bit escapes).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: Controls that separate words: each becomes one space, so "a\nb" reads "a b", not "ab".
_SPACE_LIKE = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85")


def plain_text(value: str) -> str:
    """``value`` as one line of inert text: line breaks and tabs become a space, other controls vanish.

    An escape sequence loses its ESC (or CSI) byte, so ``\\x1b[31m`` shows as ``[31m``: harmless, and it
    shows the reader that the value carried one. Printable text, including any Unicode, is unchanged.
    """
    return _CONTROL.sub(lambda match: " " if match.group() in _SPACE_LIKE else "", value)


__all__ = ["plain_text"]
