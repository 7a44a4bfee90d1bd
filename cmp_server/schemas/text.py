"""Staff-written text: the one place that refuses control characters.

Names, labels, banner texts, tracker fields, token names... are shown in the console, in
the banner and printed by `accord` in a terminal. A control character there is never
meant: an ESC starts a terminal escape sequence (`accord site list` would repaint the
operator's screen), a NUL breaks PostgreSQL. `Line` refuses every C0 and C1 control
character and DEL; `Text` (descriptions, banner texts) allows tab and line breaks.
"""

import re

from marshmallow import ValidationError, fields

LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def check_line(value: str) -> None:
    """Raise ValidationError if `value` holds a control character (line breaks included)."""
    if LINE_CONTROLS.search(value):
        raise ValidationError("must not contain control characters or line breaks")


def check_text(value: str) -> None:
    """Raise ValidationError if `value` holds a control character other than tab and line
    breaks."""
    if TEXT_CONTROLS.search(value):
        raise ValidationError("must not contain control characters")


class Line(fields.String):
    """One line of staff text: no control characters, no line breaks."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        check_line(value)
        return value


class Text(fields.String):
    """Staff text that may span lines: no control characters but tab, CR and LF."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        check_text(value)
        return value


def escape_controls(value) -> str:
    """`value` as text safe to print in a terminal: control characters as `\\xNN` (text saved
    before they were refused may still hold some)."""
    return LINE_CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
