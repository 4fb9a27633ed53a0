"""The reading half of an import: rows read, parsed and checked, as batches to write.

It runs in the importing process (parsing there or in a pool of parser processes), or,
with one worker, entirely in a separate process (reading, parsing and the file-wide
checks) while the importing process only writes: on two cores each half gets one.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

from hub.ledger.checks import FileChecks, RowError
from hub.ledger.loaders import Batch, make_loader
from hub.ledger.mapping import ImportOptions
from hub.ledger.reader import TableReader, open_table
from hub.ledger.rowparse import Chunk, ParseSpec, RowParser, parse_chunks

POLL_SECONDS = 1.0
"""How often the importing process checks that the reading process is still alive."""

QUEUED_STEPS = 8

READ_ROWS = 5000
"""Rows parsed and checked at a time (the writer joins them into ``batch_size`` batches)."""


@dataclass
class Step:
    """One batch of checked rows, with the errors since the last step and how far reading got."""

    batch: Batch
    errors: list[RowError]
    rows: int
    position: int


@dataclass(frozen=True)
class Source:
    """What the reading process needs to read and check the file again by itself."""

    path: Path
    options: ImportOptions
    spec: ParseSpec
    headers: dict[str, str]

    def open(self) -> TableReader:
        """The file, read as the importing process read it (same encoding and delimiter)."""
        options = self.options
        return open_table(
            self.path,
            encoding=self.spec.encoding or options.encoding,
            delimiter=options.delimiter,
            sheet=options.sheet,
        )

    @property
    def chunk_rows(self) -> int:
        """Rows per step."""
        return min(self.options.batch_size, READ_ROWS)

    def checks(self) -> FileChecks:
        """Fresh file-wide checks for this file."""
        spec = self.spec
        return FileChecks(self.headers, make_loader(spec.kind, spec.present, spec.identity_key))


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: an import makes millions of acyclic objects
    (freed by reference counting) whose collection passes would cost a fifth of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def chunks(reader: TableReader, size: int) -> Iterator[Chunk]:
    """``size`` rows at a time."""
    chunk: Chunk = []
    for row in reader.rows():
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def steps(source: Source, reader: TableReader, workers: int) -> Generator[Step, None, None]:
    """Checked batches of ``reader``'s rows: read here, parsed here or by ``workers``.

    With exactly one worker, the worker process reads, parses and checks by itself.
    """
    if workers == 1:
        yield from _from_process(source)
        return
    checks = source.checks()
    parsed_chunks = parse_chunks(source.spec, chunks(reader, source.chunk_rows), workers)
    with closing(parsed_chunks):
        for parsed in parsed_chunks:
            batch = checks.accept(parsed)
            yield Step(batch, checks.take_errors(), checks.rows, reader.position())


def _read_all(source: Source, out: Any) -> None:
    """The reading process: every step into ``out``, then None (or the exception raised)."""
    gc.disable()  # see gc_paused
    try:
        reader = source.open()
        try:
            checks = source.checks()
            parser = RowParser(source.spec)
            for chunk in chunks(reader, source.chunk_rows):
                batch = checks.accept(parser.parse_chunk(chunk))
                out.put(Step(batch, checks.take_errors(), checks.rows, reader.position()))
        finally:
            reader.close()
    except BaseException as exc:  # handed to the importing process
        out.put(exc)
        return
    out.put(None)


def _from_process(source: Source) -> Generator[Step, None, None]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue(QUEUED_STEPS)
    process = context.Process(target=_read_all, args=(source, queue), daemon=True)
    process.start()
    try:
        while True:
            try:
                item = queue.get(timeout=POLL_SECONDS)
            except Empty:
                if not process.is_alive():
                    raise RuntimeError(
                        f"the ledger reading process died (exit code {process.exitcode})"
                    ) from None
                continue
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
        process.join()
    finally:
        if process.is_alive():
            process.terminate()
            process.join()
        queue.close()
