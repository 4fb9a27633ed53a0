"""A realistic sample ledger, deterministic by seed: grids, workers, sites, flat resident rows.

Used by the demo and the benchmark. Rows are what a district's spreadsheet holds (one
resident per row, address included); :func:`write_csv` writes them with Chinese headers,
:func:`load` puts a sample straight into a store.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from stdnum.cn import ric

from hub.ledger import parse
from hub.ledger.idnumber import (
    HolderHasher,
    InvalidIdNumberError,
    mask_id_number,
    resident_id_for,
    validate_id_number,
)
from hub.ledger.kinds import LedgerKind
from hub.ledger.mapping import ALIASES
from hub.ledger.parse import CHINA_TZ
from hub.ledger.repository import (
    ADDRESS_DATA,
    LedgerRepository,
    mark_occupied,
    table,
    upsert,
    upsert_plates,
    upsert_resident_values,
)
from hub.ledger.rows import WorkerIn
from hub.store.db import Store
from hub.store.ledger_tables import AddressRow
from models.ledger import Grid, GridWorker

REFERENCE_TIME = datetime(2022, 11, 20, 9, 0, tzinfo=CHINA_TZ)
"""'Now' of a sample unless given: keeps the output independent of the clock."""

REGIONS = (
    *("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112"),
    *("110105", "110108"),
)
"""Region codes valid for every birth year the sample uses (others get retried)."""
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
SURNAMES += "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅玉志海燕鹏飞欣怡子涵浩宇"
GIVEN += "佳琪晓东文博思远嘉慧雪梅俊杰婷婷雨萱宏亮建平淑珍德华桂芳振华丽娟晨曦天佑若曦"
STREETS = (
    ("新塘里", "XTL", "新塘社区"),
    ("长庚里", "CGL", "新塘社区"),
    ("建设路", "JSL", "建设社区"),
    ("解放路", "JFL", "建设社区"),
    ("人民路", "RML", "人民社区"),
    ("和平里", "HPL", "人民社区"),
    ("幸福里", "XFL", "幸福社区"),
    ("文化路", "WHL", "幸福社区"),
    ("胜利街", "SLJ", "胜利社区"),
    ("光明巷", "GMX", "胜利社区"),
    ("梅园弄", "MYN", "梅园社区"),
    ("桂花巷", "GHX", "梅园社区"),
)
PLATE_PREFIXES = ("沪A", "沪B", "沪C", "沪D", "苏E", "浙A")

PEOPLE_PER_HOUSEHOLD = 2.6
HOUSEHOLDS_PER_GRID = 600
WORKERS_PER_GRID = 3

RESIDENT_HEADERS = {field: aliases[0] for field, aliases in ALIASES[LedgerKind.RESIDENTS].items()}
"""Resident field → the Chinese header :func:`write_csv` uses by default."""


@dataclass
class Sample:
    """A generated ledger: reference rows and resident rows, all as text like a file's cells."""

    grids: list[dict[str, str]] = field(default_factory=list)
    workers: list[dict[str, str]] = field(default_factory=list)
    sites: list[dict[str, str]] = field(default_factory=list)
    gates: list[dict[str, str]] = field(default_factory=list)
    residents: list[dict[str, str]] = field(default_factory=list)


def id_number(rng: random.Random, taken: set[str]) -> str:
    """A valid, not yet taken resident ID number (checksum, birth date and region)."""
    while True:
        birth = date(1935, 1, 1) + timedelta(days=rng.randrange(365 * 85))
        body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number in taken:
            continue
        try:
            validate_id_number(number)
        except InvalidIdNumberError:
            continue
        taken.add(number)
        return number


def person_name(rng: random.Random) -> str:
    """A Chinese name: surname and one or two given characters."""
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))


def plate(rng: random.Random, taken: set[str]) -> str:
    """A vehicle plate not yet taken."""
    while True:
        number = f"{rng.choice(PLATE_PREFIXES)}{rng.randrange(10**5):05d}"
        if number not in taken:
            taken.add(number)
            return number


def phone(rng: random.Random) -> str:
    """A mobile number."""
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _addresses(count: int) -> Iterator[tuple[str, str, str, str, str, str, str]]:
    """(code, street, number, building, unit, room, community) in a fixed order."""
    produced = 0
    for number in range(1, 10_000):
        for street, code, community in STREETS:
            for building in range(1, 7):
                for unit in range(1, 3):
                    for floor in range(1, 7):
                        for door in (1, 2):
                            room = f"{floor}{door:02d}"
                            yield (
                                f"{code}-{number:03d}-{building:02d}-{unit}-{room}",
                                street,
                                str(number),
                                str(building),
                                str(unit),
                                room,
                                community,
                            )
                            produced += 1
                            if produced >= count:
                                return


def generate(n_residents: int, seed: int = 0, now: datetime | None = None) -> Sample:
    """A sample ledger of ``n_residents`` people; the same seed gives the same sample."""
    rng = random.Random(seed)
    now = now or REFERENCE_TIME
    sample = Sample()
    households = max(1, math.ceil(n_residents / PEOPLE_PER_HOUSEHOLD))
    addresses = list(_addresses(households))
    n_grids = max(1, math.ceil(len(addresses) / HOUSEHOLDS_PER_GRID))
    per_grid = math.ceil(len(addresses) / n_grids)
    for g in range(n_grids):
        grid_id = f"G{g + 1:04d}"
        first = addresses[g * per_grid]
        workers = [f"W{g * WORKERS_PER_GRID + k + 1:05d}" for k in range(WORKERS_PER_GRID)]
        sample.grids.append(
            {
                "grid_id": grid_id,
                "name": f"{first[1]}第{g + 1}网格",
                "community": first[6],
                "leader_worker_id": workers[0],
            }
        )
        for k, worker_id in enumerate(workers):
            mobile = phone(rng)
            sample.workers.append(
                {
                    "worker_id": worker_id,
                    "name": person_name(rng),
                    "phone": mobile,
                    "grid_ids": grid_id,
                    "channels": f"sms:{mobile}",
                    "on_duty": "是" if k < 2 else "否",
                }
            )
        site_id = f"S{g + 1:04d}"
        sample.sites.append(
            {
                "site_id": site_id,
                "name": f"{first[1]}{first[2]}号小区",
                "kind": "compound",
                "grid_id": grid_id,
            }
        )
        for direction in ("entry", "exit"):
            sample.gates.append(
                {
                    "gate_id": f"{site_id}-{direction}",
                    "site_id": site_id,
                    "name": "东门" if direction == "entry" else "西门",
                    "direction": direction,
                }
            )
    taken: set[str] = set()
    for i in range(n_residents):
        household = min(int(i / PEOPLE_PER_HOUSEHOLD), len(addresses) - 1)
        grid_id = sample.grids[min(household // per_grid, n_grids - 1)]["grid_id"]
        sample.residents.append(_resident(rng, taken, addresses[household], grid_id, now))
    return sample


def _resident(
    rng: random.Random,
    taken: set[str],
    address: tuple[str, str, str, str, str, str, str],
    grid_id: str,
    now: datetime,
) -> dict[str, str]:
    roll = rng.random()
    tested = now - timedelta(minutes=rng.randrange(7 * 24 * 60))
    row = {
        "id_number": id_number(rng, taken),
        "name": person_name(rng),
        "phone": phone(rng),
        "address_code": address[0],
        "street": address[1],
        "number": address[2],
        "building": address[3],
        "unit": address[4],
        "room": address[5],
        "grid_id": grid_id,
        "role": "租户" if roll < 0.15 else ("务工" if roll < 0.2 else "户籍"),
        "code_colour": "绿码" if roll > 0.03 else ("黄码" if roll > 0.01 else "红码"),
        "last_test_at": tested.strftime("%Y-%m-%d %H:%M"),
        "quarantine_until": "",
        "key_area_returnee": "是" if rng.random() < 0.01 else "否",
        "plates": "",
    }
    if rng.random() < 0.005:
        row["quarantine_until"] = (now + timedelta(days=rng.randrange(1, 8))).date().isoformat()
    if rng.random() < 0.1:
        row["plates"] = plate(rng, taken)
    return row


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    encoding: str = "utf-8-sig",
    headers: dict[str, str] | None = None,
) -> Path:
    """Write rows as CSV; resident rows get Chinese headers unless ``headers`` says otherwise."""
    if not rows:
        raise ValueError("no rows to write")
    fields = list(rows[0])
    names = headers if headers is not None else RESIDENT_HEADERS
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow([names.get(name, name) for name in fields])
        writer.writerows([row[name] for name in fields] for row in rows)
    return path


def load(store: Store, sample: Sample, identity_key: bytes, batch: int = 10_000) -> int:
    """Put ``sample`` into ``store`` without the importer's checks (idempotent); residents."""
    hasher = HolderHasher(identity_key)
    with store.transaction() as session:
        repo = LedgerRepository(session)
        repo.upsert_grids(Grid.model_validate(row) for row in sample.grids)
        workers = [WorkerIn.model_validate(row) for row in sample.workers]
        repo.upsert_workers(
            (GridWorker(**w.model_dump(exclude={"channels"})) for w in workers),
            channels={w.worker_id: w.channels for w in workers},
        )
        repo.upsert_sites(sample.sites)
        repo.upsert_gates(sample.gates)
    loaded = 0
    for start in range(0, len(sample.residents), batch):
        chunk = sample.residents[start : start + batch]
        with store.transaction() as session:
            addresses = {
                row["address_code"]: {
                    "address_code": row["address_code"],
                    **{name: row[name] for name in ADDRESS_DATA},
                }
                for row in chunk
            }
            upsert(
                session, table(AddressRow), "address_code", list(addresses.values()), ADDRESS_DATA
            )
            rows = [_resident_values(hasher, row) for row in chunk]
            upsert_resident_values(session, rows)
            plates = {
                p: v["resident_id"]
                for v, row in zip(rows, chunk, strict=True)
                for p in parse.plates(row["plates"])
            }
            upsert_plates(session, plates)
            mark_occupied(session, addresses)
        loaded += len(chunk)
    return loaded


def _resident_values(hasher: HolderHasher, row: dict[str, str]) -> dict[str, Any]:
    ref = hasher(row["id_number"])
    return {
        "holder_ref": ref,
        "resident_id": resident_id_for(ref),
        "id_masked": mask_id_number(row["id_number"]),
        "name": row["name"],
        "phone": row["phone"],
        "address_code": row["address_code"],
        "role": parse.role(row["role"]),
        "quarantine_until": parse.a_date(row["quarantine_until"] or None),
        "key_area_returnee": parse.boolean(row["key_area_returnee"]),
        "code_colour": parse.colour(row["code_colour"]),
        "last_test_at": parse.a_datetime(row["last_test_at"] or None),
    }
