"""Keeping the garbage collector's full passes over the catalog off the request path.

At 100,000 parts a server holds some 600,000 objects that Python's cyclic collector tracks
(the catalog view's parts, words and indexes), and a full pass over them takes 0.5 s with the
GIL held: every request in flight waits for it (a 10 requests/s run of the 100,000-part
benchmark saw p99 596 ms). Those objects live as long as the view or the model that holds
them, so once one goes live the server moves them out of the collector's sight (`gc.freeze`).
Reference counting still frees them when the view is replaced, which it is whole: views and
matchers hold no reference cycles (tests/test_heap.py checks it), so none of them is left for
the cyclic collector to free. On the 306-part sample a pass is shorter (24 ms in process) but
comes often under load: in paired runs at 100 requests/s, p99 was 89 ms with Python's default
and 16 ms frozen (median of 5 rounds each).

While a view is built beside requests (a compaction, a new model's matcher) its objects are
young and grow by the hundred thousand, and the collector's rule for a full pass (a quarter
more long-lived objects than at the last one) ran 14-15 of them during one 100,000-part
build, up to 433 ms each. `building` keeps full passes off until the view goes live and is
frozen; the young generations are still collected.

Only the server opts in (`serve` calls `keep_live_objects_frozen`): offline work builds and
drops matchers by the dozen beside training's own objects, and keeps Python's default.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_frozen = False
# Builds under way; the thresholds to restore when the last one ends.
_building = 0
_thresholds = gc.get_threshold()
_lock = threading.Lock()
# A full pass needs this many passes of the middle generation first: never, in practice.
_NO_FULL_PASS = 1 << 30


def keep_live_objects_frozen() -> None:
    """From now on, each structure that goes live is frozen; all that is alive now is."""
    global _frozen
    _frozen = True
    gc.collect()
    gc.freeze()


def settle() -> None:
    """A large structure just went live (a view built whole, a new model's matcher): freeze
    it, once the young garbage around it is collected."""
    if _frozen:
        gc.collect(1)
        gc.freeze()


@contextlib.contextmanager
def building() -> Iterator[None]:
    """No full collector pass while a large structure is built beside requests."""
    global _building, _thresholds
    if not _frozen:
        yield
        return
    with _lock:
        if _building == 0:
            _thresholds = gc.get_threshold()
            gc.set_threshold(_thresholds[0], _thresholds[1], _NO_FULL_PASS)
        _building += 1
    try:
        yield
    finally:
        with _lock:
            _building -= 1
            if _building == 0:
                gc.set_threshold(*_thresholds)


def stop_freezing() -> None:
    """Python's default again (for tests); what was frozen is collected as usual."""
    global _frozen
    _frozen = False
    gc.unfreeze()
