"""Numbering rules: `{division}{seq:6}`, `苏相农通〔{year}〕{seq:5}`.

A rule renders to a *scope* (everything but the sequence, plus the reset period) and a
sequence number. The store keeps one counter per scope and increments it inside the
transaction that issues the number, so a rolled-back issue leaves no gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")  # numbers carry the Beijing date, whatever `now` is in

TOKEN = re.compile(r"\{([a-z_]+)(?::(\d+))?\}")
TOKENS = {"seq", "year", "yy", "month", "day", "division", "matter"}


@dataclass(frozen=True)
class Pattern:
    text: str
    seq_width: int
    reset: str

    def scope(self, *, now: datetime, division: str, matter: str) -> str:
        """The counter's key: the rendered prefix/suffix and the period it resets in."""
        now = now.astimezone(TZ)
        period = {
            "never": "",
            "yearly": f"{now:%Y}",
            "monthly": f"{now:%Y%m}",
            "daily": f"{now:%Y%m%d}",
        }[self.reset]
        return f"{self._render(now, division, matter, '#')}|{period}"

    def format(self, seq: int, *, now: datetime, division: str, matter: str) -> str:
        if seq >= 10**self.seq_width:
            raise OverflowError(f"编号 {self.text} 的序号已用完（{self.seq_width} 位）")
        return self._render(now, division, matter, f"{seq:0{self.seq_width}d}")

    def _render(self, now: datetime, division: str, matter: str, seq: str) -> str:
        now = now.astimezone(TZ)
        values = {
            "year": f"{now:%Y}",
            "yy": f"{now:%y}",
            "month": f"{now:%m}",
            "day": f"{now:%d}",
            "division": division,
            "matter": matter,
        }

        def one(m: re.Match) -> str:
            name, width = m.group(1), m.group(2)
            if name == "seq":
                return seq
            value = values[name]
            if width:
                value = value[: int(width)].ljust(int(width), "0")
            return value

        return TOKEN.sub(one, self.text)


def compile_pattern(text: str, reset: str = "never") -> Pattern:
    """Check a numbering pattern; raise ValueError with a Chinese message if it is wrong."""
    tokens = TOKEN.findall(text)
    unknown = sorted({name for name, _ in tokens} - TOKENS)
    if unknown:
        raise ValueError(f"编号规则中有未知的占位符 {unknown}；可用：{sorted(TOKENS)}")
    seqs = [width for name, width in tokens if name == "seq"]
    if len(seqs) != 1:
        raise ValueError("编号规则必须恰好包含一个 {seq:位数}")
    if not seqs[0] or not 1 <= int(seqs[0]) <= 12:
        raise ValueError("序号位数必须写明，1 到 12 位，例如 {seq:5}")
    stray = TOKEN.sub("", text)
    if "{" in stray or "}" in stray:
        raise ValueError("编号规则中的花括号不成对或占位符写法有误，应写成 {year}、{seq:5} 这样")
    needs = {"yearly": {"year", "yy"}, "monthly": {"month"}, "daily": {"day"}}.get(reset, set())
    names = {name for name, _ in tokens}
    if needs and not needs & names:
        # Without the period in the number, a yearly sequence repeats numbers every year.
        shown = "、".join("{" + n + "}" for n in sorted(needs))
        period = {"yearly": "年", "monthly": "月", "daily": "日"}[reset]
        raise ValueError(f"按{period}重置的编号必须包含 {shown}，否则会与往期编号重复")
    return Pattern(text, int(seqs[0]), reset)
