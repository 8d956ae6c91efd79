"""Chinese text for printers without a CJK font: drawn on the server, sent as ``^GFA``.

Pillow draws each glyph once per size with a TrueType font found on the server (Debian
``fonts-wqy-zenhei`` or ``fonts-noto-cjk``, or ``$WAVEFLOOR_CJK_FONT``); runs are composed
from cached glyphs and encoded as Z64 (zlib + base64 + CRC), Zebra ASCII compression or hex.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
import subprocess
import zlib
from functools import lru_cache

from printers.exceptions import CjkFontNotFound

# ---------------------------------------------------------------------------------------------
# CJK font discovery (raster mode)

CJK_FONT_ENV = "WAVEFLOOR_CJK_FONT"
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
)
CJK_FONT_HINT = (
    "no CJK TrueType font found for raster labels; install the Debian package "
    "fonts-wqy-zenhei (or fonts-noto-cjk), or point {env} at a .ttf/.ttc/.otf file"
).format(env=CJK_FONT_ENV)


def find_cjk_font(configured: str | None = None) -> str:
    """Path of a TrueType font with Chinese glyphs.

    Order: ``configured``, then ``$WAVEFLOOR_CJK_FONT``, then known Debian paths, then
    fontconfig (``fc-match :lang=zh-cn``). Raises :class:`CjkFontNotFound` with the fix.
    """
    for explicit in (configured, os.environ.get(CJK_FONT_ENV)):
        if explicit:
            if os.path.isfile(explicit):
                return explicit
            raise CjkFontNotFound(f"CJK font {explicit!r} does not exist; {CJK_FONT_HINT}")
    for candidate in CJK_FONT_CANDIDATES:
        if os.path.isfile(candidate):
            return candidate
    found = _fontconfig_cjk_font()
    if found:
        return found
    raise CjkFontNotFound(CJK_FONT_HINT)


def _fontconfig_cjk_font() -> str | None:
    if not shutil.which("fc-list"):
        return None
    try:
        listing = subprocess.run(
            ["fc-list", ":lang=zh-cn", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    paths = sorted(line.split(":", 1)[0].strip() for line in listing.splitlines() if line.strip())
    return paths[0] if paths else None


# ---------------------------------------------------------------------------------------------
# Raster text (^GFA)

_ROW_RUN_RE = re.compile(r"([0-9A-F])\1+")
_encoded_runs: dict[str, str] = {}
GRAPHIC_ENCODINGS = ("z64", "ascii", "hex")


def _run_prefix(count: int) -> str:
    tens, units = divmod(count, 20)
    return (chr(ord("f") + tens) if tens else "") + (chr(ord("F") + units) if units else "")


def _compress_run(match: re.Match) -> str:
    run = match.group(0)
    encoded = _encoded_runs.get(run)
    if encoded is None:
        encoded = _encoded_runs[run] = _run_prefix(len(run)) + run[0]
    return encoded


def compress_graphic_rows(rows: list[str]) -> str:
    """Zebra ASCII compression of hex rows: run counts (G..Y, g..z), ``,`` zero fill, ``:`` repeat."""
    out = []
    previous = None
    for row in rows:
        if row == previous:
            out.append(":")
            continue
        previous = row
        trimmed = row.rstrip("0")
        packed = _ROW_RUN_RE.sub(_compress_run, trimmed) if len(trimmed) > 1 else trimmed
        out.append(packed + "," if len(trimmed) < len(row) else packed)
    return "".join(out)


def graphic_field(bitmap_bytes: bytes, bytes_per_row: int, encoding: str = "z64") -> str:
    """``^GFA`` command for packed 1-bit rows (bit 1 = black).

    ``z64``: zlib + base64 with its CRC (firmware V60.13 and later, compact and fast to
    build); ``ascii``: Zebra ASCII run-length compression (every ZPL II printer); ``hex``.
    """
    total = len(bitmap_bytes)
    if encoding == "z64":
        encoded = base64.b64encode(zlib.compress(bitmap_bytes))
        data = f":Z64:{encoded.decode('ascii')}:{binascii.crc_hqx(encoded, 0):04X}"
    elif encoding == "ascii":
        hex_rows = bitmap_bytes.hex().upper()
        width = bytes_per_row * 2
        data = compress_graphic_rows([hex_rows[i : i + width] for i in range(0, len(hex_rows), width)])
    elif encoding == "hex":
        data = bitmap_bytes.hex().upper()
    else:
        raise ValueError(f"graphic encoding must be one of {GRAPHIC_ENCODINGS}, not {encoding!r}")
    return f"^GFA,{total},{total},{bytes_per_row},{data}"


class TextRasterizer:
    """Draws text runs to 1-bit ``^GFA`` graphics, caching glyphs and whole runs.

    A shipping label repeats headings, cities and the sender on every label, so whole runs
    are cached; names and addresses differ, so glyphs are cached to build new runs quickly.
    """

    def __init__(self, font_path: str | None = None, run_cache_size: int = 4096):
        from PIL import ImageFont  # imported here: font mode needs no Pillow

        self.font_path = find_cjk_font(font_path)
        self._image_font = ImageFont
        self._fonts: dict[int, object] = {}
        self._glyphs: dict[tuple[str, int], tuple[object, int]] = {}
        self.run = lru_cache(maxsize=run_cache_size)(self._render_run)

    def _font(self, size: int):
        font = self._fonts.get(size)
        if font is None:
            font = self._image_font.truetype(self.font_path, size)
            self._fonts[size] = font
        return font

    def line_height(self, size: int) -> int:
        ascent, descent = self._font(size).getmetrics()
        return ascent + descent

    def glyph(self, char: str, size: int):
        key = (char, size)
        cached = self._glyphs.get(key)
        if cached is None:
            from PIL import Image, ImageDraw

            font = self._font(size)
            advance = max(1, int(round(font.getlength(char))))
            image = None
            if not char.isspace():
                image = Image.new("1", (advance, self.line_height(size)), 0)
                ImageDraw.Draw(image).text((0, 0), char, font=font, fill=1)
            cached = (image, advance)
            self._glyphs[key] = cached
        return cached

    def measure(self, text: str, size: int) -> int:
        return sum(self.glyph(char, size)[1] for char in text)

    def wrap(self, text: str, size: int, max_width: int, max_lines: int) -> list[str]:
        lines: list[str] = []
        current, width = [], 0
        for char in text:
            advance = self.glyph(char, size)[1]
            if current and width + advance > max_width:
                lines.append("".join(current).rstrip())
                current, width = [], 0
                if char.isspace():
                    continue
            current.append(char)
            width += advance
        if current:
            lines.append("".join(current).rstrip())
        return lines[:max_lines]

    def _render_run(self, text: str, size: int, encoding: str = "z64") -> str:
        from PIL import Image

        width = max(8, self.measure(text, size))
        bytes_per_row = (width + 7) // 8
        canvas = Image.new("1", (bytes_per_row * 8, self.line_height(size)), 0)
        x = 0
        for char in text:
            image, advance = self.glyph(char, size)
            if image is not None:
                canvas.paste(1, (x, 0, x + image.width, image.height), image)
            x += advance
        return graphic_field(canvas.tobytes(), bytes_per_row, encoding)


_rasterizers: dict[str | None, TextRasterizer] = {}


def rasterizer_for(font_path: str | None) -> TextRasterizer:
    """One shared rasterizer (and glyph cache) per font."""
    rasterizer = _rasterizers.get(font_path)
    if rasterizer is None:
        rasterizer = TextRasterizer(font_path)
        _rasterizers[font_path] = rasterizer
    return rasterizer
