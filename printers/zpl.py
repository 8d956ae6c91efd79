"""ZPL building blocks: field escaping, printer profiles and a label canvas.

A label is laid out in millimetres and converted to printer dots by the profile, so one
template serves 203 and 300 dpi heads. Every field goes out with ``^FH`` so that ``^``, ``~``
and ``_`` in warehouse data (a SKU called ``A^B``, a buyer typing ``~``) cannot end the
format early. The label declares ``^CI28`` (UTF-8).

Chinese text has two strategies, chosen per printer (``PrinterProfile.cjk``):

- ``font``: the printer has a CJK font (e.g. ``E:SIMSUN.FNT``); it is mapped with ``^CW`` to
  a font letter and non-ASCII fields use that letter.
- ``raster``: the printer has no CJK font; the text is drawn by Pillow with a TrueType font
  from the server into a 1-bit image and sent as ``^GFA`` (Zebra ASCII compression).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from printers.exceptions import LabelDataError
from printers.raster import GRAPHIC_ENCODINGS, find_cjk_font, rasterizer_for  # noqa: F401

MM_PER_INCH = 25.4
HEX_ESCAPE = "_"

_FIELD_ESCAPES = {ord("_"): "_5F", ord("^"): "_5E", ord("~"): "_7E"}
# control characters would be taken as framing by some firmware; a label shows a space
_FIELD_ESCAPES.update({code: " " for code in range(0x20) if code not in _FIELD_ESCAPES})
_FIELD_ESCAPES[0x7F] = " "
_HEX_ESCAPE_RE = re.compile(r"_([0-9A-Fa-f]{2})")


def escape_field(text: str) -> str:
    """Field data for use after ``^FH^FD``: ``_`` ``^`` ``~`` become ``_5F`` ``_5E`` ``_7E``."""
    return str(text).translate(_FIELD_ESCAPES)


def unescape_field(text: str) -> str:
    """Inverse of :func:`escape_field` for printable data (what the printer prints)."""
    return _HEX_ESCAPE_RE.sub(lambda match: chr(int(match.group(1), 16)), text)


# ---------------------------------------------------------------------------------------------
# Printer profile

FONT_LETTERS = "ABCDEFGH0123456789"


@dataclass(frozen=True)
class PrinterProfile:
    """What one physical printer can do; stored per printer by the print queue.

    ``cjk``: ``font`` (printer-resident font ``font_name`` mapped to ``font_letter`` with
    ``^CW``) or ``raster`` (text drawn on the server, font from ``raster_font_path`` or
    discovered by :func:`find_cjk_font`; ``graphic_encoding`` ``z64``, or ``ascii`` for
    firmware older than V60.13). ``darkness`` (``^MD``, -30..30) and ``speed``
    (``^PR``, inches per second) are only sent when set, so the printer's own settings stay.
    """

    dpi: int = 203
    width_in: float = 4.0
    height_in: float = 6.0
    cjk: str = "font"
    font_name: str = "E:SIMSUN.FNT"
    font_letter: str = "J"
    darkness: int | None = None
    speed: int | None = None
    raster_font_path: str | None = None
    graphic_encoding: str = "z64"
    copies: int = 1

    def __post_init__(self):
        if self.dpi not in (203, 300, 600):
            raise ValueError(f"dpi must be 203, 300 or 600, not {self.dpi!r}")
        if self.cjk not in ("font", "raster"):
            raise ValueError(f"cjk must be 'font' or 'raster', not {self.cjk!r}")
        if len(self.font_letter) != 1 or self.font_letter.upper() in FONT_LETTERS:
            raise ValueError(f"font_letter {self.font_letter!r} would replace a resident font")
        if self.darkness is not None and not -30 <= self.darkness <= 30:
            raise ValueError("darkness (^MD) must be between -30 and 30")
        if self.graphic_encoding not in GRAPHIC_ENCODINGS:
            raise ValueError(f"graphic_encoding must be one of {GRAPHIC_ENCODINGS}")
        if self.copies < 1:
            raise ValueError("copies must be at least 1")

    def dots(self, mm: float) -> int:
        return int(round(mm * self.dpi / MM_PER_INCH))

    @property
    def width_dots(self) -> int:
        return int(round(self.width_in * self.dpi))

    @property
    def height_dots(self) -> int:
        return int(round(self.height_in * self.dpi))

    def with_(self, **changes) -> "PrinterProfile":
        return replace(self, **changes)


# ---------------------------------------------------------------------------------------------
# Label canvas


def _check_code128(data: str) -> str:
    data = str(data)
    if not data or not data.isascii() or not data.isprintable():
        raise LabelDataError(f"Code 128 data must be printable ASCII: {data!r}")
    if ">" in data:
        raise LabelDataError(f"'>' starts a Code 128 invocation code in ZPL: {data!r}")
    return data


class ZplLabel:
    """One ZPL format, laid out in millimetres.

    >>> label = ZplLabel(PrinterProfile())
    >>> label.text(5, 5, "A01-02-3", height_mm=8)
    >>> zpl = label.finish()
    """

    def __init__(self, profile: PrinterProfile):
        self.profile = profile
        self._dots = profile.dots
        self._raster = rasterizer_for(profile.raster_font_path) if profile.cjk == "raster" else None
        self._font_mapped = False
        header = [f"^XA^CI28^PW{profile.width_dots}^LL{profile.height_dots}^LH0,0"]
        if profile.darkness is not None:
            header.append(f"^MD{profile.darkness}")
        if profile.speed is not None:
            header.append(f"^PR{profile.speed}")
        self._parts = header

    # text -------------------------------------------------------------------------------

    def text(self, x_mm: float, y_mm: float, content: str, height_mm: float = 4.0) -> None:
        """One line of text; non-ASCII text uses the CJK strategy of the profile."""
        content = str(content)
        dots = self._dots
        height = dots(height_mm)
        if content.isascii():
            self._parts.append(
                f"^FO{dots(x_mm)},{dots(y_mm)}^A0N,{height},0^FH^FD{escape_field(content)}^FS"
            )
        elif self._raster is None:
            self._font_mapped = True
            self._parts.append(
                f"^FO{dots(x_mm)},{dots(y_mm)}^A{self.profile.font_letter}N,{height},{height}"
                f"^FH^FD{escape_field(content)}^FS"
            )
        else:
            graphic = self._raster.run(content, height, self.profile.graphic_encoding)
            self._parts.append(f"^FO{dots(x_mm)},{dots(y_mm)}{graphic}^FS")

    def text_block(
        self, x_mm: float, y_mm: float, width_mm: float, content: str,
        height_mm: float = 4.0, max_lines: int = 3, line_gap_mm: float = 0.8,
    ) -> None:
        """Wrapped text: ``^FB`` on the printer, or wrapped on the server in raster mode."""
        content = str(content)
        dots = self._dots
        height, gap = dots(height_mm), dots(line_gap_mm)
        if self._raster is not None and not content.isascii():
            lines = self._raster.wrap(content, height, dots(width_mm), max_lines)
            step = self._raster.line_height(height) + gap
            x, y = dots(x_mm), dots(y_mm)
            encoding = self.profile.graphic_encoding
            for index, line in enumerate(lines):
                self._parts.append(f"^FO{x},{y + index * step}{self._raster.run(line, height, encoding)}^FS")
            return
        font = "0" if content.isascii() else self.profile.font_letter
        self._font_mapped = self._font_mapped or font != "0"
        width = 0 if font == "0" else height
        self._parts.append(
            f"^FO{dots(x_mm)},{dots(y_mm)}^A{font}N,{height},{width}"
            f"^FB{dots(width_mm)},{max_lines},{gap},L,0^FH^FD{escape_field(content)}^FS"
        )

    # barcodes ---------------------------------------------------------------------------

    def module(self, mm: float) -> int:
        return max(1, self._dots(mm))

    def code128(
        self, x_mm: float, y_mm: float, data: str, height_mm: float = 15.0,
        module_mm: float = 0.25, human_readable: bool = True,
    ) -> None:
        """Code 128 in automatic subset mode (``^BC...,A``): digit runs go to subset C."""
        data = _check_code128(data)
        dots = self._dots
        self._parts.append(
            f"^FO{dots(x_mm)},{dots(y_mm)}^BY{self.module(module_mm)}"
            f"^BCN,{dots(height_mm)},{'Y' if human_readable else 'N'},N,N,A^FH^FD{escape_field(data)}^FS"
        )

    def gs1_128(self, x_mm: float, y_mm: float, element_string: str, height_mm: float = 25.0,
                module_mm: float = 0.375) -> None:
        """GS1-128 of an all-numeric element string: start C (``>;``) then FNC1 (``>8``)."""
        if not element_string.isdigit() or len(element_string) % 2:
            raise LabelDataError(f"GS1-128 element string must be an even count of digits: {element_string!r}")
        dots = self._dots
        self._parts.append(
            f"^FO{dots(x_mm)},{dots(y_mm)}^BY{self.module(module_mm)}"
            f"^BCN,{dots(height_mm)},N,N,N,N^FD>;>8{element_string}^FS"
        )

    def ean13(self, x_mm: float, y_mm: float, digits: str, height_mm: float = 15.0,
              module_mm: float = 0.33) -> None:
        """EAN-13 (``^BE``); ``digits`` has 12 digits, or 13 with a correct check digit."""
        digits = str(digits)
        if not digits.isdigit() or len(digits) not in (12, 13):
            raise LabelDataError(f"EAN-13 needs 12 or 13 digits: {digits!r}")
        if len(digits) == 13 and gs1_check_digit(digits[:12]) != digits[12]:
            raise LabelDataError(f"EAN-13 check digit is wrong: {digits!r}")
        dots = self._dots
        self._parts.append(
            f"^FO{dots(x_mm)},{dots(y_mm)}^BY{self.module(module_mm)}^BEN,{dots(height_mm)},Y,N^FD{digits[:12]}^FS"
        )

    def qr(self, x_mm: float, y_mm: float, data: str, module_mm: float = 0.5,
           error_correction: str = "M") -> None:
        """QR code (``^BQ`` model 2) in manual byte mode."""
        magnification = min(10, max(1, self._dots(module_mm)))
        dots = self._dots
        self._parts.append(
            f"^FO{dots(x_mm)},{dots(y_mm)}^BQN,2,{magnification}"
            f"^FH^FD{error_correction}A,{escape_field(data)}^FS"
        )

    # shapes -----------------------------------------------------------------------------

    def box(self, x_mm: float, y_mm: float, width_mm: float, height_mm: float,
            thickness_mm: float = 0.5, reverse: bool = False) -> None:
        dots = self._dots
        thickness = max(1, dots(thickness_mm))
        width, height = max(thickness, dots(width_mm)), max(thickness, dots(height_mm))
        self._parts.append(
            f"^FO{dots(x_mm)},{dots(y_mm)}{'^FR' if reverse else ''}^GB{width},{height},{thickness}^FS"
        )

    def hline(self, x_mm: float, y_mm: float, width_mm: float, thickness_mm: float = 0.5) -> None:
        self.box(x_mm, y_mm, width_mm, thickness_mm, thickness_mm)

    def raw(self, zpl: str) -> None:
        """Append trusted ZPL (commands built by code, never user data)."""
        self._parts.append(zpl)

    def finish(self) -> str:
        tail = f"^PQ{self.profile.copies}^XZ" if self.profile.copies > 1 else "^XZ"
        if self._font_mapped:
            # ^CW goes out only when a field uses the printer's CJK font
            mapping = f"^CW{self.profile.font_letter},{self.profile.font_name}"
            return self._parts[0] + mapping + "".join(self._parts[1:]) + tail
        return "".join(self._parts) + tail


# ---------------------------------------------------------------------------------------------
# GS1 helpers


def gs1_check_digit(digits: str) -> str:
    """GS1 mod-10 check digit: weights 3,1,3,... from the rightmost digit."""
    if not digits.isdigit():
        raise LabelDataError(f"GS1 data must be digits: {digits!r}")
    total = 0
    for position, char in enumerate(reversed(digits)):
        total += int(char) * (3 if position % 2 == 0 else 1)
    return str((10 - total % 10) % 10)
