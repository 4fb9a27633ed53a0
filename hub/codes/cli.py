"""``gridgate-hub codes``: key generation, pass issuing and the signed trust list."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import segno
import typer

from edge.verify.trust import TrustStore
from hub.codes.issue import PassRequest, issue_pass
from hub.codes.keys import KeyFileError, generate, load_private, private_path
from hub.codes.publish import PublishError, publish_trust_list
from hub.codes.trustlist import TrustListInputError, build_trust_list, read_shc_issuers
from models.events import CodeColour
from models.passes import TripRisk
from models.trust import ShcIssuer, SignedTrustList

app = typer.Typer(help="Health-code issuer tools.", no_args_is_help=True)

KeysDir = Annotated[Path, typer.Option("--keys", help="Directory of key files.")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command()
def keygen(
    kid: Annotated[str, typer.Argument(help="Key id, e.g. issuer-2026-11.")],
    keys: KeysDir = Path("var/keys"),
    overwrite: Annotated[bool, typer.Option(help="Replace an existing key.")] = False,
) -> None:
    """Create an ECDSA P-256 key pair (private key mode 0600)."""
    try:
        generate(keys, kid, overwrite=overwrite)
    except KeyFileError as exc:
        _fail(str(exc))
    typer.echo(f"wrote {private_path(keys, kid)} and {kid}.pub.pem")


@app.command()
def issue(
    kid: Annotated[str, typer.Option(help="Issuer key id.")],
    id_number: Annotated[str, typer.Option("--id-number", help="Holder's ID number.")],
    name: Annotated[str, typer.Option(help="Holder's name (printed masked).")],
    identity_key_file: Annotated[
        Path, typer.Option("--identity-key", help="File with the site's identity key.")
    ],
    colour: Annotated[CodeColour, typer.Option(help="green, yellow or red.")] = CodeColour.GREEN,
    valid_minutes: Annotated[float, typer.Option(help="Validity; minutes for dynamic passes.")] = (
        24 * 60
    ),
    tested_hours_ago: Annotated[float | None, typer.Option(help="Last test, hours ago.")] = None,
    test_positive: Annotated[
        bool, typer.Option("--test-positive", help="The last test was positive (drills).")
    ] = False,
    doses: Annotated[int, typer.Option(help="Vaccination doses.")] = 0,
    trip_risk: Annotated[TripRisk, typer.Option(help="none, medium or high.")] = TripRisk.NONE,
    keys: KeysDir = Path("var/keys"),
    png: Annotated[Path | None, typer.Option(help="Also write the QR code as PNG.")] = None,
) -> None:
    """Issue a signed pass and print its token."""
    if test_positive and tested_hours_ago is None:
        _fail("--test-positive needs --tested-hours-ago (when the test was taken)")
    try:
        key = load_private(private_path(keys, kid))
        identity_key = _identity_key(identity_key_file)
    except KeyFileError as exc:
        _fail(str(exc))
        return
    request = PassRequest(
        id_number=id_number,
        name=name,
        colour=colour,
        valid_minutes=valid_minutes,
        tested_hours_ago=tested_hours_ago,
        test_positive=test_positive,
        doses=doses,
        trip_risk=trip_risk,
    )
    token = issue_pass(request, key, kid, identity_key)
    if png is not None:
        segno.make_qr(token, error="m").save(str(png), scale=4, border=4)
    sys.stdout.write(token + "\n")


def _identity_key(path: Path) -> bytes:
    """The site's identity key from its file; :class:`KeyFileError` when absent or short."""
    from hub.config import MIN_IDENTITY_KEY_CHARS

    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise KeyFileError(f"--identity-key {path}: {exc.strerror}") from None
    if len(key) < MIN_IDENTITY_KEY_CHARS:
        raise KeyFileError(
            f"--identity-key {path}: the key must have at least {MIN_IDENTITY_KEY_CHARS} "
            f"characters (it has {len(key)}); the same text as GRIDGATE_HUB_IDENTITY_KEY"
        )
    return key


def _shc_issuers(specs: list[str], crls: list[Path]) -> dict[str, ShcIssuer]:
    """``ISS_URL=JWKS_FILE`` specs (an ``iss`` URL has no '=') and the CRLs of their kids."""
    files = {}
    for spec in specs:
        iss, equals, jwks = spec.partition("=")
        if not equals or not iss or not jwks:
            raise TrustListInputError(f"--shc-issuer {spec!r}: expected ISS_URL=JWKS_FILE")
        files[iss] = Path(jwks)
    return read_shc_issuers(files, crls)


@app.command("trust-list")
def trust_list(
    hub_kid: Annotated[str, typer.Option(help="Key id of the hub's signing key.")],
    version: Annotated[int, typer.Option(help="Version; must increase with every change.")],
    out: Annotated[Path, typer.Option(help="Where to write the signed trust list JSON.")],
    issuer: Annotated[
        list[Path] | None, typer.Option(help="Issuer public key files (<kid>.pub.pem).")
    ] = None,
    revoked_file: Annotated[
        Path | None, typer.Option("--revoked", help="File with one revoked pass id per line.")
    ] = None,
    dcc_cert: Annotated[
        list[Path] | None,
        typer.Option(help="EU DCC document signer certificates (PEM, one or more, or DER)."),
    ] = None,
    shc_issuer: Annotated[
        list[str] | None,
        typer.Option(help="SMART Health Card issuer as ISS_URL=JWKS_FILE."),
    ] = None,
    shc_crl: Annotated[
        list[Path] | None,
        typer.Option(help="SMART Health Card revocation lists ({kid, rids}), matched by kid."),
    ] = None,
    keys: KeysDir = Path("var/keys"),
) -> None:
    """Sign a trust list of issuer keys, DCC signers, SHC issuers and revoked passes."""
    issuers = issuer or []
    revoked = revoked_file.read_text("utf-8").split() if revoked_file else []
    try:
        shc = _shc_issuers(shc_issuer or [], shc_crl or [])
        hub_key = load_private(private_path(keys, hub_kid))
        signed = build_trust_list(
            issuers,
            revoked,
            version,
            hub_key,
            hub_kid,
            dcc_certificates=dcc_cert or [],
            shc_issuers=shc,
        )
    except (KeyFileError, TrustListInputError) as exc:
        _fail(str(exc))
        return
    out.write_text(signed.model_dump_json(indent=2), encoding="utf-8")
    document = signed.document
    typer.echo(
        f"wrote {out}: version {version}, {len(issuers)} issuers, "
        f"{len(document.dcc_signers)} DCC signers, {len(document.shc_issuers)} SHC issuers, "
        f"{len(revoked)} revoked"
    )


@app.command("verify")
def verify_code(
    text: Annotated[
        str | None, typer.Argument(help="The code's text (GGHC1:, HC1:, shc:/).")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A photo or PNG of the QR code instead.")
    ] = None,
    trust_list_file: Annotated[
        Path | None,
        typer.Option("--trust-list", help="The signed trust list (written by trust-list)."),
    ] = None,
    hub_key: Annotated[
        list[Path] | None,
        typer.Option(help="Hub public key(s) <kid>.pub.pem to check the trust list against."),
    ] = None,
) -> None:
    """Verify a code as an edge would; print the verdict as JSON (exit 1 unless valid)."""
    from hub.codes.verify import CodeChecker, TrustListFileError, load_trust_list
    from hub.reports.photo import HealthCodeReader, PhotoError
    from models.base import utc_now
    from models.events import VerificationStatus

    if (text is None) == (file is None):
        _fail("give either TEXT or --file PNG")
    try:
        trust = load_trust_list(trust_list_file, hub_key) if trust_list_file else TrustStore()
    except TrustListFileError as exc:
        _fail(str(exc))
        return
    if file is not None:
        try:
            text = HealthCodeReader().text(file.read_bytes())
        except OSError as exc:
            _fail(f"{file}: {exc.strerror}")
            return
        except PhotoError as exc:
            _fail(f"{file}: {exc.key}")
            return
    assert text is not None
    verdict = CodeChecker(trust).check(text.strip(), utc_now())
    if verdict is None:
        _fail("not a health code verified offline (GGHC1:, HC1: or shc:/)")
        return
    sys.stdout.write(verdict.model_dump_json(indent=2) + "\n")
    if verdict.status is not VerificationStatus.VALID:
        raise typer.Exit(1)


@app.command("publish-trust-list")
def publish_trust_list_command(
    path: Annotated[Path, typer.Argument(help="A signed trust list written by trust-list.")],
    host: Annotated[str, typer.Option(help="Broker host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Broker port.")] = 1883,
    client_id: Annotated[str, typer.Option(help="MQTT client id.")] = "gridgate-hub-codes",
    username: Annotated[
        str | None, typer.Option(envvar="GRIDGATE_HUB_MQTT_USERNAME", help="Broker login.")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="GRIDGATE_HUB_MQTT_PASSWORD", hidden=True, help="Broker password (env only)."
        ),
    ] = None,
) -> None:
    """Publish a signed trust list, retained, to every edge (login from GRIDGATE_HUB_MQTT_*)."""
    try:
        signed = SignedTrustList.model_validate_json(path.read_text("utf-8"))
        publish_trust_list(signed, host, port, client_id, username=username, password=password)
    except (OSError, ValueError, PublishError) as exc:
        _fail(str(exc))
        return
    typer.echo(f"published trust list version {signed.document.version}")


@app.command("report")
def report_code(
    base_url: Annotated[
        str, typer.Option(help="The hub's public URL, e.g. https://hub.example.cn.")
    ],
    out: Annotated[Path, typer.Option(help="Directory for report-code.png, .svg and .pdf.")],
    grid: Annotated[str | None, typer.Option(help="The grid the code reports to.")] = None,
    district: Annotated[
        bool,
        typer.Option("--district", help="One code for every grid (reporters pick an address)."),
    ] = False,
    days: Annotated[int, typer.Option(min=1, max=366, help="Days the code stays valid.")] = 90,
    secret_key: Annotated[
        str, typer.Option(envvar="GRIDGATE_HUB_SECRET_KEY", hidden=True, help="The hub's secret.")
    ] = "",
) -> None:
    """Write a report code (报备码): URL https://<hub>/r/<token> as PNG, SVG and an A4 poster."""
    from datetime import timedelta

    from hub.config import MIN_SECRET_KEY_CHARS
    from hub.reports.poster import write_report_code
    from hub.reports.tokens import ReportScope, sign_report_token
    from models.base import utc_now

    if district == (grid is not None):
        _fail("give either --grid G or --district")
    if len(secret_key) < MIN_SECRET_KEY_CHARS:
        _fail(f"GRIDGATE_HUB_SECRET_KEY must be set (at least {MIN_SECRET_KEY_CHARS} characters)")
    if not base_url.startswith(("https://", "http://")):
        _fail("--base-url must start with https:// (or http:// for a local test)")
    expires = utc_now() + timedelta(days=days)
    try:
        token = sign_report_token(ReportScope(grid, expires), secret_key)
    except ValueError as exc:
        _fail(f"--grid: {exc}")
        return
    url = f"{base_url.rstrip('/')}/r/{token}"
    label = f"{grid or 'district'} · valid until {expires.date()}"
    files = write_report_code(url, out, label)
    typer.echo(f"{url}\nwrote {files.png}, {files.svg} and {files.pdf}")
