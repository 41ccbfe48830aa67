"""Login rate limiting: too many failed logins lock a name, or a client address, out.

Staff tokens are long random strings, so guessing one online is hopeless only if guesses are
slow; without a limit a script tries thousands a second. After `max_failures` failures for one
name, or from one address, every attempt for that name / from that address is refused for
`lockout_s` seconds, the right token included (a lock that the right token lifted would tell
the guesser when it had won). Both keys count: per name stops many addresses guessing one
person's token, per address stops one address trying every name.

The table lives in memory (one console process) and is bounded: the entries touched least
recently go first. An entry only matters for `lockout_s` after its last failure, so eviction
drops a live lock only when more than `max_entries` names and addresses failed within that
window, and each address locks itself after `max_failures` of them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# Room for every name and address that failed within one lockout window, in a few MB.
MAX_ENTRIES = 10_000
# Names longer than any real one are cut, so a key's size is bounded too.
MAX_NAME_CHARS = 128


@dataclass
class _Entry:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


class LoginLimits:
    def __init__(
        self,
        max_failures: int = 5,
        lockout_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _keys(name: str, address: str) -> tuple[str, str]:
        return f"name:{name[:MAX_NAME_CHARS]}", f"address:{address}"

    def retry_after(self, name: str, address: str) -> float:
        """Seconds until this name and this address may try again; 0 when both may now."""
        now = self._clock()
        with self._lock:
            waits = [
                entry.locked_until - now
                for key in self._keys(name, address)
                if (entry := self._entries.get(key)) is not None
            ]
        return max([0.0, *waits])

    def failed(self, name: str, address: str) -> None:
        if self.lockout_s <= 0:  # 0 turns the limit off
            return
        now = self._clock()
        with self._lock:
            for key in self._keys(name, address):
                entry = self._entries.pop(key, None) or _Entry()
                # Failures older than one lockout are forgotten: a typo a day never adds up.
                if now - entry.last_failure > self.lockout_s:
                    entry.failures = 0
                entry.failures += 1
                entry.last_failure = now
                if entry.failures >= self.max_failures:
                    entry.locked_until = now + self.lockout_s
                    entry.failures = 0
                self._entries[key] = entry  # re-inserted last: the most recently touched
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def succeeded(self, name: str) -> None:
        """A successful login clears the name's failures. Not the address's: otherwise one
        staff member's own token would reset the count of guesses at everyone else's."""
        with self._lock:
            self._entries.pop(self._keys(name, "")[0], None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def retry_after_header(seconds: float) -> str:
    """Retry-After in whole seconds, rounded up so a client that obeys it is not refused."""
    return str(max(1, math.ceil(seconds)))
