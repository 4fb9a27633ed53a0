"""Health-code verification speed: verifications per second on one core, p50 / p99.

Run: ``uv run python bench/health_codes.py [--n RUNS]``. The baseline is parsing a pass
without checking its signature, measured in the same process. EU DCC (``HC1:``, ES256 and
PS256 with RSA-2048) and SMART Health Card (``shc:/``) rows verify codes from the tests' own
signers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.verify.eu_dcc import EuDccVerifier
from edge.verify.gridgate import GridgateVerifier
from edge.verify.shc import ShcVerifier
from models.passes import parse_pass
from tests.support.foreign_passes import DccIssuer, ShcIssuerKey, foreign_trust_store, vaccination
from tests.support.passes import Issuer, trust_store

N = 3000
"""Timed runs per row (after a warm-up of a tenth, at most 100)."""


def _measure(label: str, run: Callable[[], object], n: int) -> tuple[str, float, float, float]:
    for _ in range(min(100, max(1, n // 10))):
        run()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    per_s = len(samples) / sum(samples)
    quantiles = statistics.quantiles(samples, n=100)
    return label, per_s, quantiles[49] * 1e3, quantiles[98] * 1e3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=N, help=f"timed runs per row ({N})")
    n = max(2, parser.parse_args(argv).n)
    issuer = Issuer()
    verifier = GridgateVerifier(trust_store(issuer))
    token = issuer.issue()
    forged = token[:-8] + "AAAAAAAA"
    now = datetime.now(UTC)
    dcc_signer, rsa_signer, shc_issuer = DccIssuer(), DccIssuer.rsa(), ShcIssuerKey()
    foreign = foreign_trust_store([dcc_signer, rsa_signer], [shc_issuer])
    dcc, shc = EuDccVerifier(foreign), ShcVerifier(foreign)
    dcc_code, shc_card = dcc_signer.issue(vaccination()), shc_issuer.issue()
    rsa_code = rsa_signer.issue(vaccination())
    rows = [
        _measure("GGHC1 parse only (baseline)", lambda: parse_pass(token), n),
        _measure("GGHC1 verify (valid)", lambda: verifier.verify(token, now), n),
        _measure("GGHC1 verify (forged signature)", lambda: verifier.verify(forged, now), n),
        _measure("garbage text", lambda: verifier.verify("GGHC1:%%%", now), n),
        _measure("EU DCC verify (valid, ES256)", lambda: dcc.verify(dcc_code, now), n),
        _measure("EU DCC verify (valid, PS256 RSA-2048)", lambda: dcc.verify(rsa_code, now), n),
        _measure("SMART Health Card verify (valid)", lambda: shc.verify(shc_card, now), n),
    ]
    rows += _online_rows(now, n)
    base = rows[0][1]
    table = Table(title=f"health-code verification, one core, {n} runs each")
    for column in ("case", "per second", "p50 ms", "p99 ms", "vs baseline"):
        table.add_column(column, justify="right" if column != "case" else "left")
    for label, per_s, p50, p99 in rows:
        table.add_row(label, f"{per_s:,.0f}", f"{p50:.3f}", f"{p99:.3f}", f"{base / per_s:.1f}x")
    Console().print(table)


def _online_rows(now: datetime, n: int) -> list[tuple[str, float, float, float]]:
    """The online verifier against the local fake platform: every scan asked, then cached."""
    from functools import partial

    from edge.verify.online import OnlineVerifier
    from tests.support.fake_platform import GREEN, FakePlatform

    with FakePlatform() as platform:
        rows = []
        for label, ttl in (("cache miss", 0.0), ("cache hit", 60.0)):
            verifier = OnlineVerifier(platform.verifier_config(cache_ttl_s=ttl))
            name = f"online (local fake platform, {label})"
            rows.append(_measure(name, partial(verifier.verify, GREEN, now), n))
            verifier.close()
    return rows


if __name__ == "__main__":
    main()
