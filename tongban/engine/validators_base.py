"""The error and the input clean-up shared by the parsers of `tongban.engine.validators`."""

from __future__ import annotations

from typing import Any


class ValidationError(ValueError):
    """Input a person must correct; `.message` is shown to them verbatim."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- shared input clean-up ---------------------------------------------------------------

# Chinese IMEs often type full-width forms (１２３, ＡＢ, full-width space); fold them to
# ASCII. Deliberately not NFKC, which would also turn ① or ² into digits.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Anything longer is a paste accident, not an identifier; refusing early bounds the work.
_MAX_INPUT = 200


def _text(raw: Any, label: str) -> str:
    """Raw input as a stripped ASCII-folded str, or ValidationError naming `label`."""
    if isinstance(raw, bool):  # bool is an int subclass; True is never an identifier
        raise ValidationError(f"{label}格式不正确，请重新填写")
    if isinstance(raw, int):
        # Spreadsheets hand over numbers. str() of a >4300-digit int raises ValueError,
        # so bound the size before converting.
        if raw < 0 or raw.bit_length() > 128:
            raise ValidationError(f"{label}格式不正确，请重新填写")
        raw = str(raw)
    if not isinstance(raw, str):
        raise ValidationError(f"{label}应填写为文字，请重新填写")
    if len(raw) > _MAX_INPUT:
        raise ValidationError(f"{label}过长，请检查是否粘贴了多余内容")
    text = raw.translate(_FULLWIDTH).strip()
    if not text:
        raise ValidationError(f"请填写{label}")
    return text


def _squeeze(text: str, drop: str = "") -> str:
    """Remove all whitespace (including inner) and the characters in `drop`."""
    return "".join(ch for ch in "".join(text.split()) if ch not in drop)
