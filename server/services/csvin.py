"""Reading merchants' CSV files: any of UTF-8, UTF-8 with BOM, GBK/GB18030; headers in English
or Chinese; every problem named by file, line and field, and the good rows kept (a row that
cannot be read is one problem, not the end of the file)."""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from pathlib import Path

from server.channels.csvfile import UnreadableFile, read_table
from server.channels.values import LARGEST_WHOLE


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


def clean_cell(value: str) -> str:
    """Spreadsheet armour off: ``="123"``, a leading ``'`` or tab, surrounding blanks."""
    value = (value or "").strip()
    if value.startswith('="') and value.endswith('"'):
        value = value[2:-1]
    return value.lstrip("'\t").strip()


def read_rows(path, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]):
    """Yield ``(line, {field: value})`` for each data row, and ``(line, Problem)`` for a row
    that cannot be read (a byte of another encoding, a cell past the reader's limit, a NUL
    character); header problems raise ValueError.

    ``aliases`` maps a field to the header names that mean it (case and blanks ignored).
    """
    path = Path(path)
    try:
        table = read_table(path, source=path.name)
    except UnreadableFile as exc:
        raise ValueError(str(exc)) from None
    except OSError as exc:
        raise ValueError(f"cannot read the file: {exc.strerror or exc}") from None
    if not table.header:
        raise ValueError("the file is empty")
    header = table.header
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
    unreadable = [(record.line, Problem(path.name, record.line,
                                        columns.get(record.column) or table.column_name(record.column),
                                        record.reason))
                  for record in table.unreadable]
    for line, cells in heapq.merge(table.rows, unreadable, key=lambda item: item[0]):
        if isinstance(cells, Problem):
            yield line, cells
        elif any(c.strip() for c in cells):
            yield line, {fld: clean_cell(cells[i]) if i < len(cells) else "" for i, fld in columns.items()}


def whole_number(value: str, name: str, *, minimum: int = 0, maximum: int = LARGEST_WHOLE,
                 default: int | None = None) -> int:
    """A whole number from a cell, between ``minimum`` and ``maximum`` (by default the most an
    integer column holds)."""
    if value == "" and default is not None:
        return default
    try:
        number = int(value.replace(",", ""))
    except ValueError:
        shown = repr(value) if len(value) <= 40 else f"{value[:40]!r}... ({len(value)} characters)"
        raise ValueError(f"{name}: {shown} is not a whole number") from None
    if number < minimum:
        raise ValueError(f"{name}: {number} is below {minimum}")
    if number > maximum:
        raise ValueError(f"{name}: {number} is above {maximum}")
    return number
