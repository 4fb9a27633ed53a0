"""An edge agent in its own process, for kill tests: ``python -m tests.support.edge_backlog``.

It starts an ``EdgeLink``, optionally waits until it is connected, submits ``--count`` events,
prints ``ready`` and then idles until it is killed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from edge.publish.config import MqttConfig, OutboxConfig
from edge.publish.link import EdgeLink
from edge.publish.outbox import Outbox
from tests.support.factories import passage_event


def main(argv: list[str] | None = None) -> None:
    """Run until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--outbox", type=Path, required=True)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--site", default="site-a")
    parser.add_argument("--device", default="gate-01")
    parser.add_argument("--wait-ready", action="store_true", help="wait for the broker first")
    args = parser.parse_args(argv)
    outbox = Outbox(OutboxConfig(path=args.outbox))
    config = MqttConfig(
        host="127.0.0.1", port=args.port, keepalive_s=5, reconnect_min_s=1, reconnect_max_s=2
    )
    link = EdgeLink(config, outbox, site_id=args.site, device_id=args.device)
    link.start()
    if args.wait_ready and not link.wait_ready(20):
        sys.exit("not connected")
    for seq in range(args.count):
        link.submit(passage_event(args.device, args.site, faces=0, seq=seq))
    print("ready", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
