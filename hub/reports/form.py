"""The report form's fields, checked one by one: a valid report, or an error key per field.

Error keys are message ids (:mod:`hub.reports.page` translates them); the ID number is
checked with python-stdnum's rules (:func:`hub.ledger.idnumber.validate_id_number`) and
leaves this module only as a keyed hash and a masked form.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, timedelta

from hub.ledger.idnumber import InvalidIdNumberError, mask_canonical, validate_id_number

CONSENT_VERSION = "report-2026-11"
MAX_BACK = timedelta(days=14)
MAX_AHEAD = timedelta(days=30)
MAX_NAME = 50
MAX_ADDRESS = 200
_PHONE_RE = re.compile(r"1[3-9]\d{9}")
_PHONE_NOISE = re.compile(r"[\s\-()]")


@dataclass(frozen=True)
class ReportInput:
    """What the form sent, as text (kept to re-render the form)."""

    name: str = ""
    id_number: str = ""
    phone: str = ""
    arrived: str = ""
    arrival_date: str = ""
    address: str = ""
    address_code: str = ""
    regions: tuple[str, ...] = ()
    consent: bool = False


@dataclass(frozen=True)
class ValidReport:
    """A report whose every field is valid; the ID number only hashed and masked."""

    name: str
    holder_ref: str
    id_masked: str
    phone: str
    arrived: bool
    arrival_date: date
    address_text: str
    address_code: str | None
    regions: tuple[str, ...]
    consent_version: str = CONSENT_VERSION
    health_code: str | None = field(default=None)


def normalise_phone(value: str) -> str | None:
    """A mainland mobile number as 11 digits (``+86``/``0086`` dropped), or None."""
    number = _PHONE_NOISE.sub("", value)
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) == len(prefix) + 11:
            number = number[len(prefix) :]
    return number if _PHONE_RE.fullmatch(number) else None


def _name(value: str) -> str | None:
    name = " ".join(value.split())
    if not 1 <= len(name) <= MAX_NAME:
        return None
    if any(unicodedata.category(c).startswith("C") for c in name):
        return None
    return name


def check_report(
    raw: ReportInput,
    *,
    today: date,
    hasher: Callable[[str], str],
    regions: Collection[str],
) -> ValidReport | dict[str, str]:
    """The valid report, or ``{field: error key}`` for every bad field."""
    errors: dict[str, str] = {}
    name = _name(raw.name)
    if name is None:
        errors["name"] = "name_required"
    try:
        number = validate_id_number(raw.id_number)
    except InvalidIdNumberError:
        number = None
        errors["id_number"] = "id_invalid"
    phone = normalise_phone(raw.phone)
    if phone is None:
        errors["phone"] = "phone_invalid"
    if raw.arrived not in ("yes", "no"):
        errors["arrived"] = "arrived_required"
    arrival = _arrival(raw, today, errors)
    address = " ".join(raw.address.split())[:MAX_ADDRESS]
    if not address:
        errors["address"] = "address_required"
    if any(code not in regions for code in raw.regions) or len(set(raw.regions)) > len(regions):
        errors["regions"] = "regions_unknown"
    if not raw.consent:
        errors["consent"] = "consent_required"
    if errors or name is None or number is None or phone is None or arrival is None:
        return errors
    return ValidReport(
        name=name,
        holder_ref=hasher(number),
        id_masked=mask_canonical(number),
        phone=phone,
        arrived=raw.arrived == "yes",
        arrival_date=arrival,
        address_text=address,
        address_code=raw.address_code.strip() or None,
        regions=tuple(sorted(set(raw.regions))),
    )


def _arrival(raw: ReportInput, today: date, errors: dict[str, str]) -> date | None:
    try:
        arrival = date.fromisoformat(raw.arrival_date.strip())
    except ValueError:
        errors["arrival_date"] = "date_invalid"
        return None
    if arrival < today - MAX_BACK:
        errors["arrival_date"] = "date_too_old"
    elif arrival > today + MAX_AHEAD:
        errors["arrival_date"] = "date_too_far"
    elif raw.arrived == "yes" and arrival > today:
        errors["arrival_date"] = "date_arrived_future"
    elif raw.arrived == "no" and arrival < today:
        errors["arrival_date"] = "date_expected_past"
    else:
        return arrival
    return None
