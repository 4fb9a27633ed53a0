"""Read ledger files: CSV (encoding and delimiter detected) or XLSX, as rows of text cells."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Protocol

from charset_normalizer import from_bytes

SAMPLE_BYTES = 1 << 20
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class ReadError(ValueError):
    """The file cannot be read as a ledger table."""


class TableReader(Protocol):
    """A header and numbered rows (the header is row 1), with progress."""

    header: list[str]
    encoding: str | None
    total: int | None

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(row number, cells)`` for every row after the header."""
        ...

    def position(self) -> int:
        """How far reading got, in the unit of ``total``."""
        ...

    def close(self) -> None:
        """Release the file."""
        ...


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 by BOM, else charset-normalizer's best guess.

    Chinese guesses (GBK, GB2312) become GB18030, their superset.
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = from_bytes(sample, cp_isolation=["gb18030", "big5", "utf_16", "cp1252"]).best()
    if best is None or best.encoding in {"gb2312", "gbk", "gb18030", "hz"}:
        return "gb18030"
    return best.encoding


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text: dates ISO, integral floats without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


class CsvReader:
    """A CSV file; undecodable bytes become U+FFFD (the importer reports such rows)."""

    def __init__(
        self, path: Path, encoding: str | None = None, delimiter: str | None = None
    ) -> None:
        self._raw = path.open("rb")
        self.total: int | None = path.stat().st_size
        sample = self._raw.read(SAMPLE_BYTES)
        self._raw.seek(0)
        self.encoding: str | None = encoding or detect_encoding(sample)
        text = io.TextIOWrapper(self._raw, encoding=self.encoding, errors="replace", newline="")
        first = sample.decode(self.encoding, errors="replace").splitlines()[:1]
        self._records = csv.reader(
            text, delimiter=delimiter or _sniff_delimiter(first[0] if first else "")
        )
        self.header = next(self._records, [])
        if not any(cell.strip() for cell in self.header):
            self._raw.close()
            raise ReadError(f"{path.name}: no header row")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Rows numbered from 2 (the header is row 1); a quoted multi-line cell is one row."""
        yield from enumerate(self._records, start=2)

    def position(self) -> int:
        """Bytes read so far."""
        return 0 if self._raw.closed else self._raw.tell()

    def close(self) -> None:
        """Close the file."""
        self._raw.close()


def _sniff_delimiter(line: str) -> str:
    counts = {delimiter: line.count(delimiter) for delimiter in (",", "\t", ";", "|")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


class XlsxReader:
    """One sheet of an XLSX workbook (read-only, cached values of formulas)."""

    encoding: str | None = None

    def __init__(self, path: Path, sheet: str | None = None) -> None:
        from openpyxl import load_workbook  # type: ignore[import-untyped]

        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ReadError(f"{path.name}: not a readable XLSX file ({exc})") from None
        if sheet is not None and sheet not in self._book.sheetnames:
            self._book.close()
            raise ReadError(f"{path.name}: no sheet {sheet!r} (has {self._book.sheetnames})")
        self._sheet = self._book[sheet] if sheet else self._book.worksheets[0]
        self.total: int | None = self._sheet.max_row
        self._position = 0
        self._rows = self._sheet.iter_rows(values_only=True)
        first = next(self._rows, None)
        self.header = _trim([cell_text(value) for value in first or ()])
        if not any(cell.strip() for cell in self.header):
            self._book.close()
            raise ReadError(f"{path.name}: no header row")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Rows numbered as in the sheet (the header is row 1)."""
        for number, values in enumerate(self._rows, start=2):
            self._position = number
            yield number, _trim([cell_text(value) for value in values])

    def position(self) -> int:
        """Rows read so far."""
        return self._position

    def close(self) -> None:
        """Close the workbook."""
        self._book.close()


def _trim(cells: list[str]) -> list[str]:
    while cells and not cells[-1].strip():
        cells.pop()
    return cells


def open_table(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> TableReader:
    """A reader for ``path`` chosen by its suffix."""
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return XlsxReader(path, sheet)
    if suffix in CSV_SUFFIXES:
        return CsvReader(path, encoding, delimiter)
    raise ReadError(f"{path.name}: unsupported file type (use .csv or .xlsx)")
