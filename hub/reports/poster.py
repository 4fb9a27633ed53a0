"""A report code as files: the QR code as PNG and SVG, and a printable A4 PDF poster.

The poster is drawn with Pillow (no extra dependency); its Chinese title needs a CJK font
(WenQuanYi or Noto CJK when installed), otherwise it is English only.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from PIL import Image, ImageDraw

from hub.fonts import cjk_font

A4_AT_150_DPI = (1240, 1754)


@dataclass(frozen=True)
class PosterFiles:
    """Where the code was written."""

    png: Path
    svg: Path
    pdf: Path


def write_report_code(url: str, out: Path, label: str, stem: str = "report-code") -> PosterFiles:
    """Write ``url`` as ``<stem>.png``, ``.svg`` and an A4 ``.pdf`` poster titled ``label``."""
    out.mkdir(parents=True, exist_ok=True)
    qr = segno.make(url, error="m")
    files = PosterFiles(out / f"{stem}.png", out / f"{stem}.svg", out / f"{stem}.pdf")
    qr.save(str(files.png), scale=10, border=4)
    qr.save(str(files.svg), scale=10, border=4)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=24, border=4)
    code = Image.open(buffer).convert("L")
    page = Image.new("L", A4_AT_150_DPI, 255)
    draw = ImageDraw.Draw(page)
    title, cjk = cjk_font(72)
    small, _ = cjk_font(32)
    lines = ["扫码报备", "Scan to self-report"] if cjk else ["Scan to self-report"]
    y = 120
    for line in [*lines, label]:
        font = small if line == label else title
        width = draw.textlength(line, font=font)
        draw.text(((page.width - width) / 2, y), line, fill=0, font=font)
        y += 110 if font is title else 60
    side = min(page.width - 200, code.width)
    code = code.resize((side, side), Image.Resampling.NEAREST)
    page.paste(code, ((page.width - side) // 2, y + 40))
    page.save(files.pdf, "PDF", resolution=150.0)
    return files
