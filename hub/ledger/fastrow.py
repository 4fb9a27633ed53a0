"""The common well-formed resident row without pydantic: plain checks, the model's values.

:class:`ResidentFastPath` gives the field values ``ResidentIn.model_validate`` would give,
or None for a row that is not plainly good; such a row then goes through the model, which
words the errors. Tests check that both paths agree on good and on subtly bad rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timezone
from typing import Any

from hub.ledger import parse
from hub.ledger.idnumber import validate_id_number
from hub.ledger.rows import ADDRESS_CODE, NAME_MAX, PHONE, PHONE_MAX, PLACE_MAX, PLATE_LENGTHS
from models.base import IDENTIFIER_RE
from models.events import CodeColour
from models.ledger import ResidentRole

MEMO_LIMIT = 50_000
"""Distinct texts a column's parser remembers before it starts afresh."""

_PHONE = re.compile(PHONE).fullmatch
_ADDRESS_CODE = re.compile(ADDRESS_CODE).fullmatch
_IDENTIFIER = re.compile(IDENTIFIER_RE.pattern).fullmatch
_REFUSED = object()


class _Memo:
    """Cell text → parsed value for columns with few distinct texts (``_REFUSED``: invalid).

    Absent cells are looked up as a default text ("" for None, "no", "resident").
    """

    def __init__(self, parser: Callable[[str], Any]) -> None:
        self._parser = parser
        self._known: dict[str, Any] = {}

    def __call__(self, text: str) -> Any:
        known = self._known.get(text, _REFUSED)
        if known is not _REFUSED or text in self._known:
            return known
        try:
            value = self._parser(text)
        except ValueError:
            value = _REFUSED
        if len(self._known) >= MEMO_LIMIT:
            self._known.clear()
        self._known[text] = value
        return value


class ResidentFastPath:
    """``ResidentIn`` field values of a row's stripped, non-empty cells, or None."""

    def __init__(self, tz: timezone) -> None:
        self._role = _Memo(lambda text: ResidentRole(parse.role(text)))
        self._colour = _Memo(lambda text: CodeColour(parse.colour(text)) if text else None)
        self._boolean = _Memo(parse.boolean)
        self._date = _Memo(lambda text: parse.a_date(text) if text else None)
        self._time = _Memo(lambda text: parse.a_datetime(text, tz) if text else None)

    def __call__(self, data: dict[str, str]) -> dict[str, Any] | None:
        """The field values (as the model holds them), or None: validate with the model."""
        get = data.get
        number, name = get("id_number"), get("name")
        phone, street = get("phone", ""), get("street", "")
        code, grid, plates = get("address_code"), get("grid_id"), get("plates")
        house, building = get("number", ""), get("building", "")
        unit, room = get("unit", ""), get("room", "")
        if (
            number is None
            or name is None
            or len(name) > NAME_MAX
            or len(street) > NAME_MAX
            or len(phone) > PHONE_MAX
            or not _PHONE(phone)
            or (code is not None and not _ADDRESS_CODE(code))
            or (grid is not None and not _IDENTIFIER(grid))
            or max(len(house), len(building), len(unit), len(room)) > PLACE_MAX
        ):
            return None
        coded = self._coded(get)
        listed = [] if plates is None else parse.plates(plates)
        if coded is None or any(len(plate) not in PLATE_LENGTHS for plate in listed):
            return None
        try:
            id_number = validate_id_number(number)
        except ValueError:
            return None
        role, quarantine, returnee, colour, tested = coded
        return {
            "number": house,
            "building": building,
            "unit": unit,
            "room": room,
            "street": street,
            "name": name,
            "phone": phone,
            "address_code": code,
            "grid_id": grid,
            "role": role,
            "quarantine_until": quarantine,
            "key_area_returnee": returnee,
            "code_colour": colour,
            "last_test_at": tested,
            "plates": listed,
            "id_number": id_number,
        }

    def _coded(self, get: Callable[[str, str], str]) -> tuple[Any, ...] | None:
        """Role, quarantine date, returnee flag, code colour and test time, or None."""
        values = (
            self._role(get("role", "resident")),
            self._date(get("quarantine_until", "")),
            self._boolean(get("key_area_returnee", "no")),
            self._colour(get("code_colour", "")),
            self._time(get("last_test_at", "")),
        )
        for value in values:
            if value is _REFUSED:
                return None
        return values
