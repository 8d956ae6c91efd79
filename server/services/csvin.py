"""Reading merchants' CSV files: any of UTF-8, UTF-8 with BOM, GBK/GB18030; headers in English
or Chinese; every problem named by file, line and field, and the good rows kept."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    source: str
    line: int | None
    field: str | None
    reason: str

    def __str__(self):
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "problems": [str(p) for p in self.problems]}


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def clean_cell(value: str) -> str:
    """Spreadsheet armour off: ``="123"``, a leading ``'`` or tab, surrounding blanks."""
    value = (value or "").strip()
    if value.startswith('="') and value.endswith('"'):
        value = value[2:-1]
    return value.lstrip("'\t").strip()


def read_rows(path, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]):
    """Yield ``(line, {field: value})`` for each data row; header problems raise ValueError.

    ``aliases`` maps a field to the header names that mean it (case and blanks ignored).
    """
    path = Path(path)
    text = decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("the file is empty") from None
    wanted = {name.strip().lower(): fld for fld, names in aliases.items() for name in (fld, *names)}
    columns: dict[int, str] = {}
    for index, name in enumerate(header):
        fld = wanted.get(clean_cell(name).lower())
        if fld is not None and fld not in columns.values():
            columns[index] = fld
    missing = [f for f in required if f not in columns.values()]
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)}; "
                         f"the header has {', '.join(h.strip() for h in header)}")
    last_line = reader.line_num
    for cells in reader:
        line = last_line + 1
        last_line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        yield line, {fld: clean_cell(cells[i]) if i < len(cells) else "" for i, fld in columns.items()}


def whole_number(value: str, name: str, *, minimum: int = 0, default: int | None = None) -> int:
    if value == "" and default is not None:
        return default
    try:
        number = int(value.replace(",", ""))
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a whole number") from None
    if number < minimum:
        raise ValueError(f"{name}: {number} is below {minimum}")
    return number
