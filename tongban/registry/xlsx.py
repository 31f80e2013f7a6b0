"""Reading and writing registry spreadsheets (.xlsx): the names the rest of tongban uses.

Three modules do the work:

- `xlsx_parts`: the untrusted container, bounded — size and entry limits, `FileRejected`
  (a Chinese sentence for the user), zip parts read in counted chunks, hardened expat
  parsers, relationships, the shared-string table and the date cell formats;
- `xlsx_read`: `SheetReader`, a streaming parser of the first worksheet (six times
  faster than openpyxl's read-only mode), and the values it yields (`Formula`,
  `CellError`);
- `xlsx_write`: the files we hand out (exports and rejected rows, templates), written by
  openpyxl, and `as_text`.

The limits below are copies for messages and up-front checks; the reader reads them from
`xlsx_parts` at call time, so a test that lowers one patches `xlsx_parts`, not this module.
"""

from __future__ import annotations

from tongban.registry.xlsx_parts import (
    MAX_COLUMNS,
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    MAX_PART_BYTES,
    MAX_ROWS,
    MAX_TOTAL_BYTES,
    MB,
    NOT_XLSX,
    OLE_FILE,
    FileRejected,
    mb,
)
from tongban.registry.xlsx_read import CellError, Formula, SheetReader, column_letter
from tongban.registry.xlsx_write import TemplateColumn, as_text, clean, write_rows, write_template

__all__ = [
    "MAX_COLUMNS",
    "MAX_ENTRIES",
    "MAX_FILE_BYTES",
    "MAX_PART_BYTES",
    "MAX_ROWS",
    "MAX_TOTAL_BYTES",
    "MB",
    "NOT_XLSX",
    "OLE_FILE",
    "CellError",
    "FileRejected",
    "Formula",
    "SheetReader",
    "TemplateColumn",
    "as_text",
    "clean",
    "column_letter",
    "mb",
    "write_rows",
    "write_template",
]
