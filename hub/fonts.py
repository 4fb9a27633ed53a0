"""The CJK font the hub prints Chinese with (door plates, report-code posters)."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger(__name__)

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def cjk_font(size: int) -> tuple[Font, bool]:
    """A CJK font of ``size`` px when one is installed (True), else Pillow's default (False)."""
    for path in CJK_FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size), True
    log.warning("no CJK font found (apt-get install fonts-wqy-microhei): printing without Chinese")
    return ImageFont.load_default(size), False
