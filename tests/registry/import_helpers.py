"""Shared helpers for the registry import tests."""

from __future__ import annotations

from openpyxl import load_workbook


def sheet_rows(path):
    ws = load_workbook(path, read_only=True).worksheets[0]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def only(result):
    """(row, column, letter, reason) of each problem."""
    return [(p.row, p.column, p.letter, p.reason) for p in result.problems]
