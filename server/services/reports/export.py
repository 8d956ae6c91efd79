"""A report as an xlsx workbook (openpyxl): one sheet of the report's table under its title and
filters, money in yuan with two decimals (the figures are fen in the database), and a sheet per
extra table (by reason, by province ...)."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

YUAN_FORMAT = "#,##0.00"
XLSX_ROWS = 1_048_000   # a worksheet holds 1,048,576 rows: room for the title, filters and totals


def cell(key: str, value):
    """Money columns (``*_fen``) become yuan; the rest as they are."""
    if key.endswith("_fen") and isinstance(value, int):
        return value / 100
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return value


def workbook(title: str, filters: list[tuple[str, str]], sheets: list[tuple[str, list[tuple[str, str]], list[dict]]]
             ) -> bytes:
    """``sheets``: (sheet name, [(column key, heading)], rows). The first sheet carries the title
    and the filters above its table."""
    book = Workbook()
    book.remove(book.active)
    for index, (name, columns, rows) in enumerate(sheets):
        sheet = book.create_sheet("".join("-" if ch in "\\/?*[]:" else ch for ch in name)[:31])
        if index == 0:
            sheet.append([title])
            sheet["A1"].font = Font(bold=True, size=14)
            for label, value in filters:
                sheet.append([label, value])
            sheet.append([])
        sheet.append([heading for _, heading in columns])
        header_row = sheet.max_row
        for c in sheet[header_row]:
            c.font = Font(bold=True)
        for row in rows:
            sheet.append([cell(key, row.get(key)) for key, _ in columns])
        for position, (key, heading) in enumerate(columns, start=1):
            letter = sheet.cell(row=header_row, column=position).column_letter
            sheet.column_dimensions[letter].width = max(10, min(40, len(str(heading)) * 2 + 2))
            if key.endswith("_fen"):
                for r in range(header_row + 1, sheet.max_row + 1):
                    sheet.cell(row=r, column=position).number_format = YUAN_FORMAT
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
