"""Puts events into an outbox in a loop, printing each event id once ``put`` returned.

``python -m tests.support.edge_outbox_writer PATH``; kill it (SIGKILL) at any moment: every
printed id must be in the outbox when it is reopened.
"""

from __future__ import annotations

import sys
from pathlib import Path

from edge.publish.config import OutboxConfig
from edge.publish.outbox import Outbox
from tests.support.factories import passage_event


def main() -> None:
    """Write until killed."""
    outbox = Outbox(OutboxConfig(path=Path(sys.argv[1])))
    seq = 0
    while True:
        event = passage_event(faces=0, seq=seq)
        outbox.put(event)
        print(event.event_id, flush=True)
        seq += 1


if __name__ == "__main__":
    main()
