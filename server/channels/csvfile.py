"""CSV exports as channels and spreadsheets write them: unknown encoding, quoted newlines, and
now and then a record that cannot be read.

A record that cannot be read (a byte its file's encoding does not have, a cell longer than the
reader takes, a NUL character) is set aside with its line, its column when known and the
reason; the records around it are read as usual. Only a file whose header cannot be read is
refused whole.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
from dataclasses import dataclass, field

#: tried in order when a file has no byte order mark; GB18030 reads every GBK file too
FALLBACK_ENCODINGS = ("utf-8", "gbk", "gb18030")
ENCODING_NAMES = {"utf-8": "UTF-8", "gbk": "GBK", "gb18030": "GBK (GB18030)"}


class UnreadableFile(ValueError):
    pass


def decode_bytes(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding name). ``encoding`` None or "auto" detects it."""
    if encoding and encoding.lower() != "auto":
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as error:
            raise UnreadableFile(f"cannot read as {encoding}: {error}") from None
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise UnreadableFile(f"cannot read as UTF-8: {error}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise UnreadableFile(f"cannot read as UTF-16: {error}") from None
    for name in FALLBACK_ENCODINGS:
        try:
            return raw.decode(name), name
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("not UTF-8, GBK or GB18030 text")


@dataclass(frozen=True)
class BadBytes:
    """Where a line stops being text of its file's encoding."""
    before: str  # the line's text up to the byte
    byte: int
    encoding: str

    @property
    def reason(self) -> str:
        name = ENCODING_NAMES.get(self.encoding, self.encoding)
        return f"cannot be read as {name} text (byte 0x{self.byte:02X})"


def decode_lines(raw: bytes, encoding: str | None = None) -> tuple[str, str, dict[int, BadBytes]]:
    """(text, encoding name, {line: BadBytes}). A file that is wholly one encoding reads as
    :func:`decode_bytes` reads it. Otherwise it is read line by line in the encoding that reads
    the most of its lines: a line with a byte that encoding does not have is read with the byte
    replaced, and named in the third value, so that only its record is lost."""
    explicit = bool(encoding) and encoding.lower() != "auto"
    if explicit:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UnreadableFile(f"unknown encoding {encoding!r}") from None
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, used = decode_bytes(raw)  # lines of UTF-16 are not lines of bytes
        return text, used, {}
    try:
        text, used = decode_bytes(raw, encoding)
        return text, used, {}
    except UnreadableFile:
        pass
    if explicit:
        candidates, used = (encoding,), encoding
    elif raw.startswith(codecs.BOM_UTF8):
        raw, candidates, used = raw[len(codecs.BOM_UTF8):], ("utf-8",), "utf-8-sig"
    else:
        candidates, used = FALLBACK_ENCODINGS, None
    lines = raw.splitlines(keepends=True)  # no GBK or UTF-8 character holds a \r or \n byte
    best = min(candidates, key=lambda name: sum(not _decodes(line, name) for line in lines))
    parts: list[str] = []
    bad: dict[int, BadBytes] = {}
    for number, line in enumerate(lines, 1):
        body = line.rstrip(b"\r\n")
        try:
            parts.append(body.decode(best))
        except UnicodeDecodeError as error:
            bad[number] = BadBytes(body[:error.start].decode(best, errors="replace"), body[error.start], best)
            parts.append(body.decode(best, errors="replace"))
        parts.append(line[len(body):].decode("ascii"))
    return "".join(parts), used or best, bad


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


@dataclass
class UnreadableRecord:
    """A record set aside: the line it starts on, the index of the cell at fault when known, the
    reason, and as much of its cells as could be read (to tell which order it belongs to)."""
    line: int
    column: int | None
    reason: str
    cells: list[str]


@dataclass
class CsvTable:
    source: str           # file name for problems
    encoding: str
    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]  # (physical line where the record starts, cells)
    unreadable: list[UnreadableRecord] = field(default_factory=list)

    def column_name(self, index: int | None) -> str | None:
        """The header of a column (by index), None when the file has no such column."""
        if index is None or not 0 <= index < len(self.header):
            return None
        return self.header[index] or None


def read_table(path_or_bytes, encoding: str | None = None, delimiter: str | None = None,
               source: str | None = None) -> CsvTable:
    """Read a whole CSV file; every record keeps the physical line it starts on."""
    if isinstance(path_or_bytes, bytes):
        raw = path_or_bytes
    else:
        with open(path_or_bytes, "rb") as handle:
            raw = handle.read()
        source = source or os.path.basename(os.fspath(path_or_bytes))
    text, used, bad_lines = decode_lines(raw, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if delimiter is None:
        delimiter = _sniff_delimiter(text)
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    unreadable: list[UnreadableRecord] = []
    append = rows.append
    for start, cells, problem in _records(text, delimiter, bad_lines):
        if header is None:
            if problem is None and not any(cell.strip() for cell in cells):
                continue
            if problem is not None:
                raise UnreadableFile(f"line {start}: the header {problem[1]}")
            header = [cell.strip().lstrip("\ufeff") for cell in cells]
            header_line = start
            continue
        if problem is not None:
            unreadable.append(UnreadableRecord(start, problem[0], problem[1], cells))
        elif cells and any(cells):
            append((start, cells))
    return CsvTable(source=source or "<text>", encoding=used, header=header or [],
                    header_line=header_line, rows=rows, unreadable=unreadable)


class _Lines:
    """The lines of a text, remembering those taken since :meth:`start` (one record's)."""

    def __init__(self, text: str):
        self._lines = io.StringIO(text, newline="")
        self.taken: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        return line

    def start(self) -> None:
        self.taken.clear()


def _records(text: str, delimiter: str, bad_lines: dict[int, BadBytes]):
    """(first line, cells, None) for each record, or (first line, what could be read of its
    cells, (column or None, reason)) for one that cannot be read."""
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter)
    nul = "\x00" in text  # most files have none: their records are not searched for one
    while True:
        lines.start()
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            cells = _split("".join(lines.taken), delimiter)
            limit = csv.field_size_limit()
            column = next((i for i, cell in enumerate(cells) if len(cell) > limit), None)
            reason = (f"longer than the {limit} characters a cell may have" if column is not None
                      else f"not CSV: {error}")
            yield start, cells, (column, reason)
            continue
        yield start, cells, (_undecodable(start, reader.line_num, lines.taken, bad_lines, delimiter)
                             or (nul and _nul_cell(cells)) or None)


def _undecodable(start: int, end: int, taken: list[str], bad_lines: dict[int, BadBytes], delimiter: str):
    """(column, reason) when a line of the record from ``start`` to ``end`` was not text."""
    bad = next((n for n in range(start, end + 1) if n in bad_lines), None) if bad_lines else None
    if bad is None:
        return None
    before = "".join(taken[:bad - start]) + bad_lines[bad].before
    return len(_split(before, delimiter)) - 1, bad_lines[bad].reason


def _nul_cell(cells: list[str]):
    column = next((i for i, cell in enumerate(cells) if "\x00" in cell), None)
    return None if column is None else (column, "contains a NUL character")


def _split(record: str, delimiter: str) -> list[str]:
    """The cells of a record's text much as the csv module reads them, without its limit on a
    cell's length (for a record it refused); a line's end outside quotes ends the record."""
    stops = re.compile(f"[{re.escape(delimiter)}\r\n]")
    cells: list[str] = []
    index, length = 0, len(record)
    while True:
        parts = []
        if record.startswith('"', index):
            index += 1
            while True:
                close = record.find('"', index)
                if close < 0:
                    parts.append(record[index:])
                    index = length
                    break
                parts.append(record[index:close])
                if record.startswith('"', close + 1):
                    parts.append('"')
                    index = close + 2
                else:
                    index = close + 1
                    break
        stop = stops.search(record, index)
        end = stop.start() if stop else length
        parts.append(record[index:end])
        cells.append("".join(parts))
        if end < length and record[end] == delimiter:
            index = end + 1
            continue
        return cells


def _sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    if first_line.count("\t") > first_line.count(","):
        return "\t"
    return ","
