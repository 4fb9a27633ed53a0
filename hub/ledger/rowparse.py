"""Row parsing (shape checks, validation, hashing) in this process or in worker processes.

Parsing is CPU-bound Python: a large file is split into chunks parsed by a process pool,
results come back in file order. File-wide checks (duplicates) stay with the importer.
Resident rows try :mod:`hub.ledger.fastrow` first; the pydantic model judges the rest.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta, timezone

from pydantic import ValidationError

from hub.ledger.fastrow import ResidentFastPath
from hub.ledger.kinds import LedgerKind
from hub.ledger.loaders import Loader, Problem, make_loader
from hub.ledger.mapping import ROW_MODELS
from hub.ledger.repository import Values

Chunk = list[tuple[int, list[str]]]
"""``(row number, cells)`` of consecutive rows."""

Parsed = tuple[int, Values | None, list[Problem]]
"""A non-blank row: its number, prepared values (None when refused) and its problems."""


@dataclass(frozen=True)
class ParseSpec:
    """Everything a parser needs, picklable for worker processes."""

    kind: LedgerKind
    columns: tuple[str | None, ...]
    width: int
    strict_width: bool
    encoding: str | None
    utc_offset_hours: float
    identity_key: bytes | None

    @property
    def present(self) -> set[str]:
        """The fields the file has columns for."""
        return {name for name in self.columns if name}


class RowParser:
    """Parses single rows for one file layout."""

    def __init__(self, spec: ParseSpec) -> None:
        self.spec = spec
        self.model = ROW_MODELS[spec.kind]
        self.loader: Loader = make_loader(spec.kind, spec.present, spec.identity_key)
        tz = timezone(timedelta(hours=spec.utc_offset_hours))
        self.context = {"tz": tz}
        self.fast = ResidentFastPath(tz) if spec.kind is LedgerKind.RESIDENTS else None

    def parse(self, number: int, cells: list[str]) -> Parsed | None:
        """The parsed row, or None for a blank one."""
        joined = "".join(cells)
        if not joined.strip():
            return None
        spec = self.spec
        if len(cells) != spec.width and (
            spec.strict_width or any(c.strip() for c in cells[spec.width :])
        ):
            reason = f"expected {spec.width} columns, got {len(cells)}"
            return number, None, [Problem(number, None, "", reason)]
        if "\ufffd" in joined:
            reason = f"undecodable bytes for encoding {spec.encoding}"
            return number, None, [Problem(number, None, "", reason)]
        data = {f: v for f, c in zip(spec.columns, cells, strict=False) if f and (v := c.strip())}
        fields = self.fast(data) if self.fast else None
        if fields is not None:
            return number, self.loader.prepare(fields), []
        try:
            row = self.model.model_validate(data, context=self.context)
        except ValidationError as exc:
            problems = []
            for error in exc.errors(include_url=False):
                name = str(error["loc"][0]) if error["loc"] else None
                reason = error["msg"].removeprefix("Value error, ")
                problems.append(Problem(number, name, data.get(name or "", ""), reason))
            return number, None, problems
        return number, self.loader.prepare(row), []

    def parse_chunk(self, chunk: Chunk) -> list[Parsed]:
        """The non-blank rows of ``chunk``, parsed."""
        return [parsed for number, cells in chunk if (parsed := self.parse(number, cells))]


_WORKER: RowParser | None = None


def _start_worker(spec: ParseSpec) -> None:
    global _WORKER
    _WORKER = RowParser(spec)


def _parse_in_worker(chunk: Chunk) -> list[Parsed]:
    assert _WORKER is not None
    return _WORKER.parse_chunk(chunk)


def parse_chunks(
    spec: ParseSpec, chunks: Iterable[Chunk], workers: int
) -> Generator[list[Parsed], None, None]:
    """Parsed chunks in order: here when ``workers`` is 0, else in that many processes."""
    if workers <= 0:
        parser = RowParser(spec)
        for chunk in chunks:
            yield parser.parse_chunk(chunk)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(spec,)
    ) as pool:
        pending: deque[Future[list[Parsed]]] = deque()
        try:
            for chunk in chunks:
                pending.append(pool.submit(_parse_in_worker, chunk))
                if len(pending) > 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
