"""Door plates as images: one QR of the address URL with the address printed under it, and A4
sheets of several plates with cut marks (PDF, through Pillow).

The QR holds ``<base_url>/a/<address_code>``: the edge's decoder reads it as a door plate
(URL form), and a grid worker's phone camera opens that household's file on the hub.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from PIL import Image, ImageDraw

from hub.fonts import cjk_font

PLATE_PX = (600, 720)
A4_PX = (1240, 1754)  # 150 dpi
SHEET_GRID = (2, 2)
MARGIN_PX = 60


@dataclass(frozen=True)
class Plate:
    """One household's plate."""

    address_code: str
    address_text: str
    grid_id: str


def plate_url(base_url: str, address_code: str) -> str:
    """What the plate's QR holds."""
    return f"{base_url.rstrip('/')}/a/{address_code}"


def render_plate(plate: Plate, base_url: str) -> Image.Image:
    """The plate: QR (error correction M, quiet zone kept) above the address and its code."""
    width, height = PLATE_PX
    image = Image.new("RGB", PLATE_PX, "white")
    qr = segno.make(plate_url(base_url, plate.address_code), error="m")
    scale = max(1, (width - 80) // int(qr.symbol_size(border=4)[0]))
    buffer = _qr_image(qr, scale)
    image.paste(buffer, ((width - buffer.width) // 2, 30))
    draw = ImageDraw.Draw(image)
    _, cjk = cjk_font(34)
    text = plate.address_text if cjk else plate.address_code
    y = 30 + buffer.height + 16
    for line, size in ((text, 34), (f"{plate.address_code} · {plate.grid_id}", 22)):
        line_font, _ = cjk_font(size)
        line_width = draw.textlength(line, font=line_font)
        draw.text(((width - line_width) / 2, y), line, fill="black", font=line_font)
        y += size + 14
    draw.rectangle((4, 4, width - 5, height - 5), outline="black", width=3)
    return image


def _qr_image(qr: segno.QRCode, scale: int) -> Image.Image:
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=4)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def render_sheets(plates: Sequence[Plate], base_url: str) -> list[Image.Image]:
    """A4 pages of plates in a grid, with cut marks at every plate corner."""
    columns, rows = SHEET_GRID
    per_page = columns * rows
    cell_w = (A4_PX[0] - 2 * MARGIN_PX) // columns
    cell_h = (A4_PX[1] - 2 * MARGIN_PX) // rows
    pages = []
    for start in range(0, len(plates), per_page):
        page = Image.new("RGB", A4_PX, "white")
        draw = ImageDraw.Draw(page)
        for index, plate in enumerate(plates[start : start + per_page]):
            x = MARGIN_PX + (index % columns) * cell_w
            y = MARGIN_PX + (index // columns) * cell_h
            image = render_plate(plate, base_url)
            image.thumbnail((cell_w - 40, cell_h - 40))
            page.paste(image, (x + (cell_w - image.width) // 2, y + (cell_h - image.height) // 2))
            _cut_marks(draw, x, y, cell_w, cell_h)
        pages.append(page)
    return pages


def _cut_marks(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int, size: int = 18) -> None:
    for cx, cy in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
        draw.line((cx - size, cy, cx + size, cy), fill="black", width=1)
        draw.line((cx, cy - size, cx, cy + size), fill="black", width=1)
