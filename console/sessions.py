"""Server-side console sessions: the cookie holds a random id, this table holds the rest.

A signed cookie stays valid until it expires, whatever the server does; a copy taken before
logout (a shared machine, a proxy log, malware) would keep working for hours. Here the cookie
is only a key into this table, so logout, a token change, or a restart ends the session for
every copy of the cookie.

Only logged-in sessions are stored (the login form's CSRF token needs no state, see
console/security.py), so nobody can fill the table without a valid staff token. The table is
bounded: past `max_sessions`, the session idle longest goes first.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# Long enough to look away from the screen; short enough that a forgotten tab closes itself.
IDLE_S = 3600.0
# A working day: then log in again, whatever the activity.
ABSOLUTE_S = 12 * 3600.0
MAX_SESSIONS = 10_000


@dataclass
class Session:
    # secrets.token_urlsafe(32): 256 bits, never guessed.
    id: str
    user: str
    # A fingerprint of the person's token (Staff.fingerprint), never the token: a session
    # dies when its token is changed in the configuration.
    key: str
    # Sent back with every form; a page from another site cannot know it.
    csrf: str
    created_at: float
    seen_at: float
    # One message shown on the next page (after a redirect), then forgotten.
    flash: str = ""


class SessionStore:
    def __init__(
        self,
        idle_s: float = IDLE_S,
        absolute_s: float = ABSOLUTE_S,
        max_sessions: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_s = idle_s
        self.absolute_s = absolute_s
        self._max_sessions = max_sessions
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, user: str, key: str) -> Session:
        """A new session with a new id: logging in never reuses an id someone else may
        have set (session fixation)."""
        now = self._clock()
        session = Session(
            id=secrets.token_urlsafe(32),
            user=user,
            key=key,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            seen_at=now,
        )
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str) -> Session | None:
        """The live session with this id (and its idle clock restarted), or None."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.seen_at > self.idle_s or now - session.created_at > self.absolute_s:
                del self._sessions[session_id]
                return None
            session.seen_at = now
            self._sessions.move_to_end(session_id)
            return session

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
