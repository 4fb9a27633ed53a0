"""The SMS adapter: the log driver, or an HTTP gateway getting one JSON POST per message.

The body is the configured JSON object with ``$to`` and ``$text`` filled into its string
values (after parsing, so a text cannot break the JSON). Optional headers: ``Authorization``,
and ``X-Gridgate-Timestamp`` / ``X-Gridgate-Signature`` signed as the webhook channel signs.
A transport error or a non-2xx answer raises :class:`ChannelError` (the caller retries).
"""

from __future__ import annotations

import json
import string
import time
from collections.abc import Mapping

import httpx

from hub.config import HubSettings
from hub.push.base import ChannelError
from hub.push.log import LogSender
from hub.push.personal import MessageSender
from hub.push.webhook import signature


def fill(template: object, values: Mapping[str, str]) -> object:
    """``template`` (parsed JSON) with ``$name`` placeholders in its strings replaced."""
    if isinstance(template, str):
        return string.Template(template).safe_substitute(values)
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    return template


class HttpSmsSender:
    """Implements :class:`hub.push.personal.MessageSender` against an HTTP SMS gateway."""

    def __init__(
        self,
        url: str,
        body: str,
        *,
        auth: str | None = None,
        secret: bytes | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.url, self.secret = url, secret
        self._template = json.loads(body)
        self._headers = {"Content-Type": "application/json"}
        if auth:
            self._headers["Authorization"] = auth
        self._client = httpx.Client(timeout=timeout_s)

    def deliver(self, target: str, text: str) -> None:
        """POST one message; :class:`ChannelError` when the gateway does not take it."""
        payload = fill(self._template, {"to": target, "text": text})
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = dict(self._headers)
        if self.secret is not None:
            timestamp = str(int(time.time() * 1000))
            headers["X-Gridgate-Timestamp"] = timestamp
            headers["X-Gridgate-Signature"] = signature(self.secret, timestamp, body)
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"SMS gateway: {type(exc).__name__}: {exc}") from None
        if not response.is_success:
            raise ChannelError(f"SMS gateway: HTTP {response.status_code}")

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def sms_sender(settings: HubSettings) -> MessageSender:
    """The SMS sender the settings choose (``sms_driver``)."""
    if settings.sms_driver == "log" or settings.sms_url is None:
        return LogSender("sms")
    return HttpSmsSender(
        str(settings.sms_url),
        settings.sms_body,
        auth=settings.sms_auth.get_secret_value() if settings.sms_auth else None,
        secret=settings.sms_secret.get_secret_value().encode() if settings.sms_secret else None,
        timeout_s=settings.sms_timeout_s,
    )
