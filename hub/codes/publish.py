"""Publish the signed trust list, retained, so every edge gets it on (re)connect; the version
is recorded in the hub's database as the one every device should apply (``devices lagging``)."""

from __future__ import annotations

import logging
import os

from sqlalchemy.exc import SQLAlchemyError

from hub.config import StoreSettings
from hub.mqtt import Publisher, PublishError
from models import encode, topics
from models.base import utc_now
from models.trust import SignedTrustList

__all__ = ["PublishError", "publish_trust_list"]

logger = logging.getLogger(__name__)

HUB_DATABASE_ENV = ("GRIDGATE_HUB_DATABASE_URL", "GRIDGATE_HUB_DATA_DIR")
"""Where a publish learns the hub's database: it is recorded only when one of these is set."""


def publish_trust_list(
    signed: SignedTrustList,
    host: str,
    port: int,
    client_id: str,
    timeout_s: float = 10.0,
    *,
    username: str | None = None,
    password: str | None = None,
    database_url: str | None = None,
) -> None:
    """Publish ``signed`` retained (QoS 1), wait for the broker's PUBACK, then record its
    version in ``database_url`` (default: the hub's, from ``GRIDGATE_HUB_*``)."""
    publisher = Publisher(host, port, client_id, timeout_s, username=username, password=password)
    publisher.connect()
    try:
        publisher.publish(topics.trust_list(), encode(signed), retain=True)
    finally:
        publisher.close()
    record_trust_list_version(str(signed.document.version), database_url)


def record_trust_list_version(version: str, database_url: str | None = None) -> None:
    """Record ``version`` as the published trust list; :class:`PublishError` if that fails."""
    from hub.devices.fleet import TRUST_LIST, record_published
    from hub.store.db import Store

    if database_url is None and any(os.environ.get(name) for name in HUB_DATABASE_ENV):
        database_url = StoreSettings().database_url
    if database_url is None:
        logger.warning(
            "trust list version %s published but not recorded: no hub database (set %s); "
            "`devices lagging` compares only recorded versions",
            version,
            " or ".join(HUB_DATABASE_ENV),
        )
        return
    try:
        store = Store.open(database_url)
        try:
            with store.transaction() as session:
                record_published(session, TRUST_LIST, version, utc_now())
        finally:
            store.close()
    except SQLAlchemyError as exc:
        raise PublishError(
            f"trust list version {version} published, but not recorded in the hub's database: {exc}"
        ) from None
