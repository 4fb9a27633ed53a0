"""Which file column feeds which field: built-in aliases (incl. Chinese headers) and options."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from hub.ledger.kinds import LedgerKind
from hub.ledger.rows import AddressIn, GridIn, ResidentIn, RowModel, SiteIn, WorkerIn

ROW_MODELS: dict[LedgerKind, type[RowModel]] = {
    LedgerKind.RESIDENTS: ResidentIn,
    LedgerKind.ADDRESSES: AddressIn,
    LedgerKind.GRIDS: GridIn,
    LedgerKind.WORKERS: WorkerIn,
    LedgerKind.SITES: SiteIn,
}

_ADDRESS = {
    "address_code": ("地址编码", "门牌编码", "标准地址编码", "地址码", "门牌码"),
    "street": ("街路巷", "街巷", "路巷", "街道路巷", "路名"),
    "number": ("门牌号", "门牌", "号"),
    "building": ("楼栋", "楼号", "栋", "幢", "楼"),
    "unit": ("单元", "单元号"),
    "room": ("房间", "房号", "室", "户室号", "房间号"),
    "grid_id": ("网格", "网格编号", "网格编码", "所属网格", "grid"),
}

ALIASES: dict[LedgerKind, dict[str, tuple[str, ...]]] = {
    LedgerKind.RESIDENTS: {
        "id_number": ("身份证号", "身份证号码", "身份证", "公民身份号码", "证件号码", "证件号"),
        "name": ("姓名", "名字"),
        "phone": ("电话", "联系电话", "手机", "手机号", "手机号码"),
        **_ADDRESS,
        "role": ("人员类型", "人员类别", "身份", "类型"),
        "quarantine_until": ("隔离截止", "隔离截止日期", "隔离至", "隔离到期"),
        "key_area_returnee": ("重点地区返回", "重点地区返乡", "中高风险地区返回", "重点人员"),
        "code_colour": ("健康码", "健康码颜色", "码色", "code_color"),
        "last_test_at": ("最近核酸", "最近核酸时间", "核酸时间", "核酸检测时间"),
        "plates": ("车牌", "车牌号", "车牌号码", "plate"),
    },
    LedgerKind.ADDRESSES: {
        **_ADDRESS,
        "household": ("房屋状态", "居住状态", "状态", "household_state"),
    },
    LedgerKind.GRIDS: {
        "grid_id": ("网格编号", "网格编码", "网格", "grid"),
        "name": ("网格名称", "名称"),
        "community": ("社区", "所属社区"),
        "leader_worker_id": ("网格长", "网格长编号", "leader"),
    },
    LedgerKind.WORKERS: {
        "worker_id": ("工号", "网格员编号", "人员编号", "编号"),
        "name": ("姓名", "名字"),
        "phone": ("电话", "联系电话", "手机", "手机号"),
        "grid_ids": ("网格", "负责网格", "所属网格", "grid", "grids"),
        "channels": ("通知渠道", "通知方式"),
        "on_duty": ("在岗", "是否在岗"),
    },
    LedgerKind.SITES: {
        "site_id": ("场所编号", "点位编号", "卡口编号", "编号"),
        "name": ("名称", "场所名称", "点位名称"),
        "kind": ("类型", "场所类型"),
        "grid_id": ("网格", "网格编号", "所属网格", "grid"),
    },
}

IGNORE = "-"
"""Mapping target that drops a column."""


class MappingError(ValueError):
    """The file's header or the mapping does not fit the kind."""


class ImportOptions(BaseModel):
    """How to read one import file; loadable from YAML (``--mapping``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mapping: dict[str, str] = Field(
        default_factory=dict,
        title="Column mapping",
        description=f"File header → field name (or {IGNORE!r} to drop the column); "
        "applied on top of the built-in aliases.",
    )
    encoding: str | None = Field(
        None, title="Encoding", description="CSV encoding; detected when unset (UTF-8, GBK...)."
    )
    delimiter: str | None = Field(
        None,
        min_length=1,
        max_length=1,
        title="Delimiter",
        description="CSV delimiter; sniffed from the header when unset (, ; tab |).",
    )
    sheet: str | None = Field(None, title="Sheet", description="XLSX sheet; the first if unset.")
    utc_offset_hours: float = Field(
        8.0, ge=-14, le=14, title="UTC offset", description="Zone of naive times in the file."
    )
    batch_size: int = Field(
        50_000,
        ge=1,
        le=200_000,
        title="Batch size",
        description="Rows per transaction (the first ones smaller, so that writing starts early).",
    )
    workers: int | None = Field(
        None,
        ge=0,
        le=64,
        title="Parser processes",
        description="Processes that parse rows; 0: none (in the importing process), "
        "1: one that also reads the file and checks duplicates while this one writes. "
        "Unset, for files of 8 MB or more: 1 on 2-3 CPUs, CPUs - 2 (at most 4) on more; "
        "else 0. "
        "Worker processes are spawned: a script calling the importer needs the "
        "``if __name__ == '__main__':`` guard.",
    )

    @classmethod
    def from_yaml(cls, path: Path) -> ImportOptions:
        """Options from a YAML file (a bare mapping of headers is accepted too)."""
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and not set(data) & set(cls.model_fields):
            data = {"mapping": data}
        return cls.model_validate(data)


def normalise_header(header: str) -> str:
    """Header comparison form: NFKC, case-folded, no spaces, ``*`` or ``(必填)`` notes."""
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "").casefold()
    text = re.sub(r"\(.*?\)|\*", "", text)
    return "".join(text.split())


def resolve_columns(
    kind: LedgerKind, header: list[str], mapping: dict[str, str]
) -> tuple[list[str | None], list[str]]:
    """Field per column (None: dropped) and the unknown headers; raises :class:`MappingError`."""
    fields = ROW_MODELS[kind].model_fields
    lookup: dict[str, str] = {}
    for field, aliases in ALIASES[kind].items():
        for alias in (field, *aliases):
            lookup.setdefault(normalise_header(alias), field)
    for source, target in mapping.items():
        if target != IGNORE and target not in fields:
            raise MappingError(f"mapping {source!r} → {target!r}: no such {kind} field")
        lookup[normalise_header(source)] = target
    columns: list[str | None] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for raw in header:
        mapped = lookup.get(normalise_header(raw))
        if mapped is None or mapped == IGNORE:
            columns.append(None)
            if mapped is None and raw.strip():
                ignored.append(raw)
            continue
        if mapped in seen:
            raise MappingError(f"columns {seen[mapped]!r} and {raw!r} both map to {mapped!r}")
        seen[mapped] = raw
        columns.append(mapped)
    missing = [name for name, info in fields.items() if info.is_required() and name not in seen]
    if missing:
        raise MappingError(f"{kind} file lacks required column(s): {', '.join(missing)}")
    return columns, ignored
