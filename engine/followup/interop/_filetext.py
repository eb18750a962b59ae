"""Reading a file's text before its meaning: the bytes as UTF-8, the rows of a CSV file
and a JSON document with the line of each of its parts, each within its limits.

``followup.interop.readers`` turns what is read here into applications. A problem stops
the reading with an ``InputError`` that names the file, the line (and for JSON the
column) and what was expected.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from bisect import bisect_right
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from followup.errors import InputError
from followup.interop.export import restore_cell

__all__ = ["MAX_CELL", "MAX_FILE", "Located", "Row", "csv_rows", "decode", "utf8"]

MAX_FILE = 64 * 1024 * 1024  # bytes: larger files are refused, not read into memory
MAX_CELL = 10_000  # characters in one CSV cell or JSON string
_MAX_DEPTH = 32
_FIELD_LIMIT = csv.field_size_limit()  # characters: the csv module refuses longer fields
_LONG_CELL = "\x00long cell "  # what stands for a long cell nobody reads


def decode(data: bytes, source: str) -> str:
    """``data`` as text (UTF-8, with or without a byte order mark)."""
    if len(data) > MAX_FILE:
        raise InputError(f"{source}: the file is {len(data)} bytes; at most {MAX_FILE} are "
                         "read: split it")
    return utf8(data, source, error=InputError, how="in a spreadsheet: 'CSV UTF-8'")


def utf8(data: bytes, source: str, *, error: type[InputError], how: str) -> str:
    """``data`` as UTF-8 text (a byte order mark dropped), or ``error`` naming the line of
    the first byte that is not, and ``how`` to save the file as UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(f"{source}:{line}: byte 0x{data[exc.start]:02x} is not UTF-8: save "
                    f"the file as UTF-8 ({how})") from None


# -- JSON -------------------------------------------------------------------------------


class Located:
    """A JSON parser that also says on which line each object and list starts."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source = text, source
        self.lines: dict[tuple[Any, ...], int] = {}
        self.breaks = [i for i, ch in enumerate(text) if ch == "\n"]
        self.decoder = json.JSONDecoder(parse_constant=self._constant)

    def parse(self) -> tuple[Any, dict[tuple[Any, ...], int]]:
        value, end = self.value(0, (), 0)
        if self.skip(end) != len(self.text):
            self.fail(self.skip(end), "extra data after the JSON value")
        return value, self.lines

    def line(self, pos: int) -> int:
        return bisect_right(self.breaks, pos - 1) + 1

    def fail(self, pos: int, problem: str) -> NoReturn:
        column = pos - (self.breaks[self.line(pos) - 2] + 1 if self.line(pos) > 1 else 0) + 1
        raise InputError(f"{self.source}:{self.line(pos)}:{column}: {problem}")

    def _constant(self, name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    def skip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in " \t\r\n":
            pos += 1
        return pos

    def value(self, pos: int, path: tuple[Any, ...], depth: int) -> tuple[Any, int]:
        pos = self.skip(pos)
        if depth > _MAX_DEPTH:
            self.fail(pos, f"nested more than {_MAX_DEPTH} deep")
        if pos >= len(self.text):
            self.fail(pos, "the file ends where a value was expected: it is truncated")
        opening = self.text[pos]
        if opening not in "{[":
            try:
                value, end = self.decoder.raw_decode(self.text, pos)
            except json.JSONDecodeError as exc:
                self.fail(exc.pos, exc.msg)
            except ValueError as exc:
                self.fail(pos, str(exc))
            if isinstance(value, str) and len(value) > MAX_CELL:
                self.fail(pos, f"a text of {len(value)} characters; at most {MAX_CELL} are read")
            return value, end
        self.lines[path] = self.line(pos)
        closing = "}" if opening == "{" else "]"
        out: Any = {} if opening == "{" else []
        pos = self.skip(pos + 1)
        if self.text[pos : pos + 1] == closing:
            return out, pos + 1
        while True:
            pos = self.skip(pos)
            if opening == "{":
                if self.text[pos : pos + 1] != '"':
                    self.fail(pos, "expected a key in double quotes")
                key, pos = self.decoder.raw_decode(self.text, pos)
                pos = self.skip(pos)
                if self.text[pos : pos + 1] != ":":
                    self.fail(pos, f"expected ':' after the key {key!r}")
                out[key], pos = self.value(pos + 1, (*path, key), depth + 1)
            else:
                item, pos = self.value(pos, (*path, len(out)), depth + 1)
                out.append(item)
            pos = self.skip(pos)
            ch = self.text[pos : pos + 1]
            if ch == closing:
                return out, pos + 1
            if ch != ",":
                self.fail(pos, f"expected ',' or '{closing}'"
                          + ("; the file is truncated" if not ch else ""))
            pos += 1


# -- CSV --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]  # header -> value


def csv_rows(data: bytes, source: str,
          reads: Callable[[list[str]], Collection[str]] | None = None
          ) -> tuple[list[str], list[Row]]:
    """The header and the rows of a CSV file. ``reads(header)`` names the columns an
    import reads (all of them when None): only their cells must fit in ``MAX_CELL``. A
    longer cell of a column nobody reads (a tracker's ``htmlDescription``) is not kept:
    it stands in the row as ``_LONG_CELL`` and a hash of its text, so two rows that
    differ only there stay apart. A row holds at most the csv module's field limit
    (``_FIELD_LIMIT`` characters) per column of the header."""
    text = decode(data, source)
    reader = csv.reader(io.StringIO(text), strict=True)
    rows: list[Row] = []
    header: list[str] | None = None
    read: Collection[str] = ()
    line = 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                _check_cells(record, record, source, start)
                header = [h.strip() for h in record]
                read = header if reads is None else frozenset(reads(header))
                continue
            if len(record) != len(header):
                raise InputError(f"{source}:{start}: {len(record)} fields, but the header "
                                 f"has {len(header)} ({', '.join(header)}): check the commas "
                                 "and quotes of this row")
            cells = _check_cells(record, header, source, start, read)
            rows.append(Row(start, dict(zip(header, map(restore_cell, cells), strict=True))))
    except csv.Error as exc:
        problem, at = str(exc), reader.line_num
        if "end of data" in problem:  # name the row where the open quote is
            problem += ": a quoted field in this row is never closed (the file may be truncated)"
            at = line
        elif "field larger than field limit" in problem:
            problem = (f"field larger than {_FIELD_LIMIT:,} characters, more than any column "
                       "of a tracker's export holds (is it a CSV file?)")
        raise InputError(f"{source}:{at}: not valid CSV: {problem}") from None
    if header is None:
        raise InputError(f"{source}:1: the file is empty: expected a header row such as "
                         "company,role,status")
    return header, rows


def _check_cells(record: list[str], header: Sequence[str], source: str, line: int,
                 read: Collection[str] | None = None) -> list[str]:
    """``record`` with each long cell of an unread column replaced (see ``_rows``);
    ``InputError`` for a long cell of a column that is read (``read`` None: all)."""
    out = record
    for i, cell in enumerate(record):
        if len(cell) <= MAX_CELL:
            continue
        name = header[i]
        if read is None or name in read:
            raise InputError(f"{source}:{line}: field {i + 1} is {len(cell)} characters "
                             f"long; at most {MAX_CELL} are read (column {name.strip()!r}; "
                             "a column the import does not read may be longer)")
        if out is record:
            out = list(record)
        digest = hashlib.sha256(cell.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        out[i] = f"{_LONG_CELL}{digest}"
    return out
