"""Settings for offline runs (train, eval, benchmarks), which build matchers of their own.

With ES_URL those matchers build, swap and drop lexical indexes; under the server's prefix
that would swap the very aliases a running server searches. So each offline run gets a prefix
of its own, dropped when the run ends, also when it fails. And nobody waits on an offline run:
the search deadline that protects a customer's request would, on a busy machine, only turn
into lexical evidence missing from fusion training and from evaluated answers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Iterator

from matcher.config import Settings
from matcher.elastic.client import BackendError, BackendUnavailable, make_client
from matcher.elastic.index_writer import drop_prefix

log = logging.getLogger(__name__)

# Seconds an offline run's searches may take before the lexical signal counts as unavailable.
OFFLINE_ES_TIMEOUT_S = 30.0


@contextlib.contextmanager
def offline_settings(settings: Settings) -> Iterator[Settings]:
    """`settings` with an index prefix of this run alone (its indexes are dropped on exit)
    and a search deadline of at least OFFLINE_ES_TIMEOUT_S."""
    if not settings.es_url:
        yield settings
        return
    # A run inside a run (eval trains) nests: its prefix is its own again.
    prefix = f"{settings.es_index_prefix}-offline-{uuid.uuid4().hex[:12]}"
    log.info("offline run: lexical indexes under %s-*", prefix)
    try:
        yield dataclasses.replace(
            settings,
            es_index_prefix=prefix,
            es_timeout_s=max(settings.es_timeout_s, OFFLINE_ES_TIMEOUT_S),
        )
    finally:
        client = make_client(settings.es_url, timeout_s=60.0)
        try:
            drop_prefix(client, prefix)
        except (BackendError, BackendUnavailable) as exc:
            log.warning("could not drop the offline indexes %s-* (drop by hand): %s", prefix, exc)
        finally:
            client.close()
