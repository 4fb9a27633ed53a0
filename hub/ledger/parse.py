"""Lenient parsers for spreadsheet cells: Chinese yes/no, dates, colours, roles, lists."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

CHINA_TZ = timezone(timedelta(hours=8), "CST")
"""China Standard Time: how naive times in a ledger file are read by default."""

_TRUE = {"1", "true", "t", "yes", "y", "on", "是", "有", "√", "✓", "在岗", "在"}
_FALSE = {"0", "false", "f", "no", "n", "off", "否", "无", "×", "✗", "不在岗", "离岗", "不在"}

_COLOURS = {"绿": "green", "绿码": "green", "黄": "yellow", "黄码": "yellow"}
_COLOURS |= {"红": "red", "红码": "red", "green": "green", "yellow": "yellow", "red": "red"}

_ROLES = {"户籍": "resident", "常住": "resident", "居民": "resident", "业主": "resident"}
_ROLES |= {"租户": "tenant", "租住": "tenant", "流动": "tenant", "流动人口": "tenant"}
_ROLES |= {"务工": "worker", "工作": "worker", "从业": "worker", "从业人员": "worker"}

_HOUSEHOLD = {"已住": "occupied", "有人": "occupied", "自住": "occupied", "出租": "occupied"}
_HOUSEHOLD |= {"空置": "vacant", "空房": "vacant", "无人": "vacant", "未知": "unknown"}

_SITE_KINDS = {"小区": "compound", "院落": "compound", "卡口": "checkpoint", "检查站": "checkpoint"}
_SITE_KINDS |= {"自助机": "kiosk", "一体机": "kiosk", "自助终端": "kiosk"}

_DIRECTIONS = {"进": "entry", "入": "entry", "进口": "entry", "出": "exit", "出口": "exit"}

_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_LIST_SPLIT_RE = re.compile(r"[;,，；、\s|]+")
_PLATE_SPLIT_RE = re.compile(r"[;,，；、|]+")


def _lookup(table: dict[str, str], value: Any) -> Any:
    if isinstance(value, str):
        key = value.strip()
        return table.get(key, table.get(key.lower(), key.lower()))
    return value


def role(value: Any) -> Any:
    """``租户`` → ``tenant`` etc.; other values pass through for the enum to judge."""
    return _lookup(_ROLES, value)


def colour(value: Any) -> Any:
    """``绿码`` → ``green`` etc."""
    return _lookup(_COLOURS, value)


def household(value: Any) -> Any:
    """``空置`` → ``vacant`` etc."""
    return _lookup(_HOUSEHOLD, value)


def site_kind(value: Any) -> Any:
    """``卡口`` → ``checkpoint`` etc."""
    return _lookup(_SITE_KINDS, value)


def direction(value: Any) -> Any:
    """``进`` → ``entry``, ``出`` → ``exit``."""
    return _lookup(_DIRECTIONS, value)


def boolean(value: Any) -> Any:
    """是/否, Y/N, 1/0, true/false, √/× as booleans."""
    if isinstance(value, str):
        key = value.strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        raise ValueError(f"not a yes/no value: {value!r}")
    return value


def a_date(value: Any) -> Any:
    """2024-11-23, 2024/11/23, 2024.11.23, 20241123, 2024年11月23日 (a time part is dropped)."""
    if not isinstance(value, str):
        return value
    text = value.strip().split(" ")[0].split("T")[0]
    match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if not match:
        raise ValueError(f"not a date: {value!r}")
    year, month, day = (int(part) for part in match.groups())
    return date(year, month, day)


def a_datetime(value: Any, tz: timezone = CHINA_TZ) -> Any:
    """An ISO time, or ``2024/11/23 08:30``; naive times are read in ``tz``, a date is midnight.

    The result is in UTC, as the store gives times back: comparing aware datetimes whose
    ``tzinfo`` differs costs 20 times more (2.7 against 0.13 us), once per row of a rerun.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        head, _, clock = text.partition(" ")
        day = a_date(head)
        try:
            hours = datetime.strptime(
                clock.strip(), "%H:%M:%S" if clock.count(":") == 2 else "%H:%M"
            )
        except ValueError:
            if clock.strip():
                raise ValueError(f"not a time: {value!r}") from None
            hours = datetime.min
        parsed = datetime.combine(day, hours.time())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def items(value: Any) -> Any:
    """``a;b、c`` → ``["a", "b", "c"]`` (empty parts dropped)."""
    if isinstance(value, str):
        return [part for part in _LIST_SPLIT_RE.split(value.strip()) if part]
    return value


def plates(value: Any) -> Any:
    """Vehicle plates, upper case, no spaces or middle dots: ``沪A·12345`` → ``沪A12345``."""
    if not isinstance(value, str):
        return value
    compact = re.sub(r"[\s·•]+", "", value)
    return [plate.upper() for plate in _PLATE_SPLIT_RE.split(compact) if plate]


def channels(value: Any) -> Any:
    """``sms:13800000000; email:a@b.cn`` → ``{"sms": ..., "email": ...}``; JSON objects too."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("{"):
        return json.loads(text)
    result: dict[str, str] = {}
    for part in re.split(r"[;；\n]+", text):
        name, sep, address = part.partition(":")
        if not sep:
            name, sep, address = part.partition("：")
        if name.strip():
            result[name.strip().lower()] = address.strip()
    return result
