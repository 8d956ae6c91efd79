"""CSV exports as channels and spreadsheets write them: unknown encoding, quoted newlines."""
from __future__ import annotations

import codecs
import csv
import io
import os
from dataclasses import dataclass

#: tried in order when a file has no byte order mark; GB18030 reads every GBK file too
FALLBACK_ENCODINGS = ("utf-8", "gbk", "gb18030")


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
        return raw[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"
    for name in FALLBACK_ENCODINGS:
        try:
            return raw.decode(name), name
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("not UTF-8, GBK or GB18030 text")


@dataclass
class CsvTable:
    source: str           # file name for problems
    encoding: str
    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]  # (physical line where the record starts, cells)


def read_table(path_or_bytes, encoding: str | None = None, delimiter: str | None = None,
               source: str | None = None) -> CsvTable:
    """Read a whole CSV file; every record keeps the physical line it starts on."""
    if isinstance(path_or_bytes, bytes):
        raw = path_or_bytes
    else:
        with open(path_or_bytes, "rb") as handle:
            raw = handle.read()
        source = source or os.path.basename(os.fspath(path_or_bytes))
    text, used = decode_bytes(raw, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if delimiter is None:
        delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    previous_end = 0
    append = rows.append
    for cells in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if header is None:
            if not any(cell.strip() for cell in cells):
                continue
            header = [cell.strip().lstrip("\ufeff") for cell in cells]
            header_line = start
            continue
        if cells and any(cells):
            append((start, cells))
    return CsvTable(source=source or "<text>", encoding=used, header=header or [],
                    header_line=header_line, rows=rows)


def _sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    if first_line.count("\t") > first_line.count(","):
        return "\t"
    return ","
