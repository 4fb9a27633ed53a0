"""Webhook channel: WeCom/DingTalk-style markdown JSON, signed with HMAC-SHA256.

Headers: ``X-Gridgate-Timestamp`` (Unix ms) and ``X-Gridgate-Signature`` =
base64(HMAC-SHA256(secret, "<timestamp>\\n<body>")); receivers recompute and compare.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx

from hub.push.base import ChannelError
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


class WebhookChannel:
    """POSTs each alert to one URL."""

    name = "webhook"

    def __init__(self, url: str, secret: bytes, timeout_s: float = 5.0) -> None:
        self.url = url
        self.secret = secret
        self._client = httpx.Client(timeout=timeout_s)

    def send(self, alert: Alert) -> str:
        """POST the signed message; a non-2xx answer is a retryable failure."""
        body = json.dumps(markdown(alert), ensure_ascii=False).encode()
        timestamp = str(int(time.time() * 1000))
        headers = {
            "Content-Type": "application/json",
            "X-Gridgate-Timestamp": timestamp,
            "X-Gridgate-Signature": signature(self.secret, timestamp, body),
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"{self.url}: {exc}") from None
        if response.status_code >= 300:
            raise ChannelError(f"{self.url}: HTTP {response.status_code}")
        return self.url

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
