"""Hub settings, read from ``GRIDGATE_HUB_*`` environment variables (or given directly)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.base import Identifier
from models.topics import HUB_SHARE_GROUP

logger = logging.getLogger(__name__)

DEFAULT_SECRET_KEY = "changethis"  # noqa: S105 - the known placeholder we refuse
MIN_SECRET_KEY_CHARS = 32
MIN_IDENTITY_KEY_CHARS = 32
DEFAULT_SMS_BODY = '{"to": "$to", "text": "$text"}'


class InsecureSettingsError(ValueError):
    """A setting that is only acceptable in ``dev_mode`` (e.g. the default secret key)."""


class StoreSettings(BaseSettings):
    """Where the hub's data lives (all that ``gridgate-hub db`` needs)."""

    model_config = SettingsConfigDict(env_prefix="GRIDGATE_HUB_", extra="forbid")

    data_dir: Path = Field(
        Path("var/hub"),
        title="Data directory",
        description="Where the hub keeps its files (the SQLite database by default).",
    )
    database_url: str = Field(
        "",
        title="Database URL",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user@host/db. "
        "Empty: an SQLite file hub.db under data_dir.",
    )

    @model_validator(mode="after")
    def _default_database(self) -> StoreSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'hub.db'}"
        return self


class HubSettings(StoreSettings):
    """Everything the hub needs to run: storage, broker, API and secrets."""

    mqtt_host: str = Field("127.0.0.1", title="MQTT host", description="Broker host name.")
    mqtt_port: int = Field(1883, ge=1, le=65535, title="MQTT port", description="Broker port.")
    mqtt_client_id: Identifier = Field(
        "gridgate-hub",
        title="MQTT client id",
        description="Stable per worker: the broker keeps this worker's session under it. "
        "Give every extra ingest worker its own.",
    )
    mqtt_username: str | None = Field(None, title="MQTT user name", description="Broker login.")
    mqtt_password: SecretStr | None = Field(
        None, title="MQTT password", description="Broker password."
    )
    share_group: Identifier = Field(
        HUB_SHARE_GROUP,
        title="Share group",
        description="MQTT v5 shared-subscription group the ingest workers split events in.",
    )
    session_expiry_s: int = Field(
        3600,
        ge=0,
        le=0xFFFFFFFF,
        title="Session expiry (s)",
        description="How long the broker keeps the worker's session (and queues its events) "
        "while it is away. 0 disables the persistent session.",
    )
    secret_key: SecretStr = Field(
        SecretStr(DEFAULT_SECRET_KEY),
        title="Secret key",
        description=f"Signs tokens; at least {MIN_SECRET_KEY_CHARS} characters, "
        "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`.",
    )
    dev_mode: bool = Field(
        False,
        title="Development mode",
        description="Accept the default or a short secret key, with a warning. "
        "Never in production.",
    )
    identity_key: SecretStr | None = Field(
        None,
        title="Identity key",
        description="Site key of the holder references (keyed hashes of ID numbers) in the "
        f"ledger and on passes; at least {MIN_IDENTITY_KEY_CHARS} characters, the same text "
        "as the key file given to `gridgate-hub codes issue --identity-key`. "
        "Unset: ledger imports need it given explicitly.",
    )
    api_host: str = Field("127.0.0.1", title="API host", description="Address the API binds.")
    api_port: int = Field(8080, ge=1, le=65535, title="API port", description="API port.")
    token_ttl_min: int = Field(
        720,
        ge=1,
        le=7 * 24 * 60,
        title="Login lifetime (min)",
        description="How long an access token from the login form stays valid.",
    )
    escalate_after_min: float = Field(
        15,
        gt=0,
        title="Escalate after (min)",
        description="An alert still open this long is escalated to its grid leader.",
    )
    remind_after_h: float = Field(
        4,
        gt=0,
        title="Remind after (h)",
        description="An acknowledged alert, or an escalated one still unacknowledged, untouched"
        " this long is pushed again as a reminder (and again after as long).",
    )
    blas_threads: int = Field(
        1,
        ge=1,
        le=64,
        title="BLAS threads",
        description=(
            "Threads numpy's BLAS may use for face matching. One is fastest here: the matrices"
            " per ingest batch are small, and extra BLAS threads spin-wait on the cores the"
            " ingest, the broker and the database need (measured: twice the CPU per event)."
        ),
    )
    ingest_writers: int = Field(
        1,
        ge=1,
        le=16,
        title="Ingest writer threads",
        description=(
            "Threads that each take a batch of events and write it in its own transaction;"
            " their batches commit in either order, as two workers' do. A second writer matches"
            " one batch while another waits for PostgreSQL: worth trying when the database is"
            " across a network. With the database on the same 2 cores, one writer was faster"
            " (2,806-3,080 against 2,406-2,452 events/s) and had the lower latency. SQLite has"
            " one writer lock: keep 1."
        ),
    )
    gallery_announce_s: float = Field(
        300,
        gt=0,
        title="Gallery check interval (s)",
        description="How often each site's gallery is re-checked and, if changed, announced.",
    )
    time_zone: str = Field(
        "Asia/Shanghai",
        title="Time zone",
        description="IANA zone of the hub's sites: where a day begins for tasks and reports.",
    )
    rules_file: Path | None = Field(
        None,
        title="Rules file",
        description="YAML with default and per-site alert rules; unset: every rule, defaults.",
    )

    sms_driver: Literal["log", "http"] = Field(
        "log",
        title="SMS driver",
        description="How text messages (to grid workers and reporters) leave the hub: `log` "
        "writes them to the log, `http` POSTs them to an SMS gateway (sms_url).",
    )
    sms_url: AnyHttpUrl | None = Field(
        None,
        title="SMS gateway URL",
        description="Where the `http` driver POSTs each message; required for it.",
    )
    sms_body: str = Field(
        DEFAULT_SMS_BODY,
        title="SMS request body",
        description="JSON object POSTed per message; `$to` and `$text` in its string values "
        "become the phone number and the text.",
    )
    sms_auth: SecretStr | None = Field(
        None,
        title="SMS gateway authorization",
        description="Sent as the `Authorization` header (e.g. `Bearer <token>`); unset: none.",
    )
    sms_secret: SecretStr | None = Field(
        None,
        title="SMS signing secret",
        description="When set, each request carries X-Gridgate-Timestamp and "
        "X-Gridgate-Signature (HMAC-SHA256, as the webhook channel signs).",
    )
    sms_timeout_s: float = Field(
        5.0, gt=0, le=60, title="SMS timeout (s)", description="Per request to the gateway."
    )
    webhook_url: AnyHttpUrl | None = Field(
        None,
        title="Command-centre webhook URL",
        description="A group robot (WeCom/DingTalk style) that receives every alert as signed "
        "markdown JSON; needs webhook_secret. Unset: no hub-wide webhook.",
    )
    webhook_secret: SecretStr | None = Field(
        None,
        title="Webhook signing secret",
        description="Signs every webhook POST (X-Gridgate-Timestamp, X-Gridgate-Signature = "
        "base64 HMAC-SHA256). Also enables grid workers' own robots: a `webhook:<url>` entry "
        "in a worker's ledger channels. Unset: no webhook is sent.",
    )
    trust_list_file: Path | None = Field(
        None,
        title="Trust list file",
        description="The signed trust list the hub publishes (`gridgate-hub codes trust-list"
        " --out`). Passes in self-report photos are verified against it and recorded with"
        " their verdict (e.g. gridgate:bad_signature); unset: only their format is recorded.",
    )
    report_retention_days: int = Field(
        30,
        ge=1,
        le=3650,
        title="Report retention (days)",
        description="Self-reports not updated for this long are purged daily (the consent "
        "text promises 30 days).",
    )

    @field_validator("sms_body")
    @classmethod
    def _json_body(cls, body: str) -> str:
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(parsed, dict) or "$to" not in body or "$text" not in body:
            raise ValueError("must be a JSON object using $to and $text")
        return body

    @model_validator(mode="after")
    def _sms_gateway(self) -> HubSettings:
        if self.sms_driver == "http" and self.sms_url is None:
            raise ValueError("sms_driver http needs sms_url")
        return self

    @model_validator(mode="after")
    def _signed_webhook(self) -> HubSettings:
        if self.webhook_secret is not None and not self.webhook_secret.get_secret_value():
            raise ValueError("webhook_secret is empty")
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("webhook_url needs webhook_secret: webhooks are always signed")
        return self

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (e.g. Asia/Shanghai)") from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        """The hub's time zone."""
        return ZoneInfo(self.time_zone)

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> HubSettings:
        problem = _secret_problem(self.secret_key.get_secret_value())
        if problem:
            if not self.dev_mode:
                raise InsecureSettingsError(
                    f"GRIDGATE_HUB_SECRET_KEY {problem}: set a random one "
                    "(or GRIDGATE_HUB_DEV_MODE=true for local development only)"
                )
            logger.warning("secret_key %s; accepted because dev_mode is set", problem)
        return self

    @model_validator(mode="after")
    def _refuse_weak_identity_key(self) -> HubSettings:
        if self.identity_key is None:
            return self
        problem = _secret_problem(self.identity_key.get_secret_value(), MIN_IDENTITY_KEY_CHARS)
        if problem:
            if not self.dev_mode:
                raise InsecureSettingsError(
                    f"GRIDGATE_HUB_IDENTITY_KEY {problem}: set a random one "
                    "(or GRIDGATE_HUB_DEV_MODE=true for local development only)"
                )
            logger.warning("identity_key %s; accepted because dev_mode is set", problem)
        return self


def _secret_problem(secret: str, min_chars: int = MIN_SECRET_KEY_CHARS) -> str | None:
    if secret == DEFAULT_SECRET_KEY:
        return f"is the default {DEFAULT_SECRET_KEY!r}"
    if len(secret) < min_chars:
        return f"is shorter than {min_chars} characters"
    return None
