"""The health of the remote lexical backend, checked on a timer rather than by Match traffic.

While the server runs with ES_URL set, a daemon thread asks the node every
`PARTMATCH_ES_PROBE_S` seconds whether the parts alias is there: one `HEAD` through the lexical
signal's own client, under the search deadline (`PARTMATCH_ES_TIMEOUT_S`). It reports
"available" when the node answers that the alias exists, and "unavailable" when the node does
not answer in time, refuses the request, or answers that the alias is gone (a node that came
back empty, on which a search would fail too). The server turns each report into the health
status of `partmatch.v1.signal.lexical` (matcher/server.py, `SignalHealth`).

A probe that finds the alias gone or the index stale asks the index writer for its background
rebuild, as a search would, so the signal comes back by itself when no one is matching.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from matcher.elastic.client import BackendError, BackendUnavailable
from matcher.elastic.index_writer import ElasticsearchIndex
from matcher.signals.base import Signal
from matcher.signals.elasticsearch import ElasticsearchSignal

log = logging.getLogger(__name__)


def elasticsearch_index(signals: Iterable[Signal]) -> ElasticsearchIndex | None:
    """The index the Elasticsearch lexical signal searches; None for the embedded BM25."""
    for signal in signals:
        if isinstance(signal, ElasticsearchSignal):
            return signal.index
    return None


def lexical_available(index: ElasticsearchIndex, timeout_s: float) -> bool:
    """Whether a search of `index` can answer now: the node answers within `timeout_s` and
    holds the parts alias. Asks for a rebuild when the alias is gone or the index is stale."""
    if index.stale:
        index.schedule_resync()
    try:
        exists = index.client.request("HEAD", f"/{index.parts_alias}", timeout=timeout_s)
    except BackendUnavailable as exc:
        log.debug("lexical probe: node unavailable: %s", exc)
        return False
    except BackendError as exc:
        log.warning("lexical probe: node refused the check: %s", exc)
        return False
    if not exists:
        index.mark_stale()  # schedules the background rebuild
        return False
    return True


class LexicalProbe:
    """Checks the lexical backend every `interval_s` seconds, the first time at start.

    `index` is asked afresh each time (a model reload brings a new signal and client); when it
    answers None (no remote lexical signal) nothing is checked. `report` gets each outcome.
    """

    def __init__(
        self,
        index: Callable[[], ElasticsearchIndex | None],
        report: Callable[[bool], None],
        interval_s: float,
        timeout_s: float,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"probe interval must be positive, got {interval_s}")
        self._index = index
        self._report = report
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lexical-probe", daemon=True)

    def start(self) -> LexicalProbe:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ends the thread; waits for a check in flight, which its timeout bounds."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(self.timeout_s + 5.0)
            if self._thread.is_alive():
                log.warning("lexical probe still in a check after stop; left to end by itself")

    def check(self) -> bool | None:
        """One check, reported; None when there is no remote lexical index to check."""
        index = self._index()
        if index is None:
            return None
        available = lexical_available(index, self.timeout_s)
        if not self._stopped.is_set():
            self._report(available)
        return available

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.check()
            except Exception:
                # A bug, not an outage: keep probing, and say so once per failure.
                log.exception("lexical probe failed")
            self._stopped.wait(self.interval_s)
