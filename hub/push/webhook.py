"""Webhook channels: WeCom/DingTalk-style markdown JSON, signed with HMAC-SHA256.

Two uses: the command centre's robot gets every alert (:class:`WebhookChannel`), and a grid
worker's own robot (``webhook`` in their ledger channels) the alerts they take there
(:func:`worker_webhooks`).

Headers: ``X-Gridgate-Timestamp`` (Unix ms) and ``X-Gridgate-Signature`` =
base64(HMAC-SHA256(secret, "<timestamp>\\n<body>")); receivers recompute and compare.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit, urlunsplit

import httpx

from hub.push.base import ChannelError
from hub.push.personal import PersonalChannel
from hub.push.recipients import RecipientDirectory
from models.alerts import Alert


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode() + b"\n" + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def markdown(alert: Alert) -> dict[str, object]:
    """The message body a WeCom/DingTalk robot understands, plus the alert itself."""
    text = (
        f"### [{alert.severity.upper()}] {alert.rule}\n"
        f"- grid: {alert.grid_id}\n- site: {alert.site_id} {alert.gate_id or ''}\n"
        f"- {alert.summary}\n- repeats: {alert.repeat_count}"
    )
    return {
        "msgtype": "markdown",
        "markdown": {"title": f"gridgate {alert.rule}", "content": text, "text": text},
        "alert": json.loads(alert.model_dump_json()),
    }


def body(alert: Alert) -> str:
    """The JSON text POSTed for ``alert``."""
    return json.dumps(markdown(alert), ensure_ascii=False)


def shown(url: str) -> str:
    """``url`` as a delivery records it: without its query (robots carry tokens there)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class WebhookSender:
    """Implements :class:`hub.push.personal.MessageSender`: POSTs a JSON text, signed, to a URL.

    A target that is not an http(s) URL, a transport error or a non-2xx answer raises
    :class:`ChannelError` (the dispatcher retries, then records the failure).
    """

    def __init__(self, secret: bytes, timeout_s: float = 5.0) -> None:
        self.secret = secret
        self._client = httpx.Client(timeout=timeout_s)

    def deliver(self, target: str, text: str) -> None:
        """POST ``text`` to the URL ``target`` with the timestamp and signature headers."""
        if urlsplit(target).scheme not in ("http", "https"):
            raise ChannelError(f"not an http(s) webhook URL: {shown(target)!r}")
        content = text.encode()
        timestamp = str(int(time.time() * 1000))
        headers = {
            "Content-Type": "application/json",
            "X-Gridgate-Timestamp": timestamp,
            "X-Gridgate-Signature": signature(self.secret, timestamp, content),
        }
        try:
            response = self._client.post(target, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"{shown(target)}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 300:
            raise ChannelError(f"{shown(target)}: HTTP {response.status_code}")

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


class WebhookChannel:
    """POSTs every alert to one URL (the command centre's group robot)."""

    def __init__(
        self, url: str, secret: bytes, timeout_s: float = 5.0, *, name: str = "webhook"
    ) -> None:
        self.url, self.name = url, name
        self._sender = WebhookSender(secret, timeout_s)

    def send(self, alert: Alert) -> str:
        """POST the signed message; a non-2xx answer is a retryable failure."""
        self._sender.deliver(self.url, body(alert))
        return shown(self.url)

    def close(self) -> None:
        """Close the connection pool."""
        self._sender.close()


def worker_webhooks(
    directory: RecipientDirectory, secret: bytes, timeout_s: float = 5.0
) -> PersonalChannel:
    """Grid workers' own robots: the ``webhook`` URL in a worker's ledger channels gets the
    alerts they take there (on duty, subscription), signed with ``secret``."""
    sender = WebhookSender(secret, timeout_s)
    return PersonalChannel(
        "webhook",
        directory,
        sender,
        render=body,
        shown=shown,
        owned=sender,
    )
