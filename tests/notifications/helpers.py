from __future__ import annotations

import datetime as dt

from notifications import services


def dispatch_and_send(now: dt.datetime) -> services.DispatchResult:
    """One beat tick and every batch it hands out, run in this process."""
    result = services.dispatch(now=now)
    for batch in result.batches:
        services.send_batch(ids=batch, now=now)
    return result
