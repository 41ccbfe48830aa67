"""Switching the served model without a restart: the Admin service and a registry watcher.

A reload builds a complete new Matcher beside the old one and then swaps the holder's
reference. A request reads the holder once and keeps that matcher to the end, so requests
in flight finish on the old model and nothing is dropped; the old matcher is closed only
after a grace period. A version that fails verification or loading never replaces a
working model: the caller gets FAILED_PRECONDITION with the reason, and the log says so.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import grpc
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.app import build_matcher
from matcher.catalog import Part
from matcher.catalog_store import CatalogStore
from matcher.config import Settings
from matcher.engine import Matcher
from matcher.registry import (
    VERSION_NAME,
    ModelError,
    check_version_name,
    current_version,
    open_version,
)

log = logging.getLogger(__name__)

# One reload at a time in a process (the Admin RPC and the registry watcher share it):
# building a matcher encodes the catalog and history, and two at once would only double
# the memory and the wait.
_RELOAD_LOCK = threading.Lock()

# Requests still running on the old matcher may use its signal pool (remote signals); it is
# shut down only once they have surely finished.
OLD_MATCHER_GRACE_S = 30.0


class Swappable(Protocol):
    """What a reload needs of the server's holder (matcher.server.MatcherHolder)."""

    def __call__(self) -> Matcher: ...

    def swap(self, matcher: Matcher) -> Matcher: ...


@dataclass(frozen=True)
class Reloaded:
    version: str
    previous: str


class ModelReloader:
    """Loads a registry version into a new Matcher and swaps it in."""

    def __init__(
        self,
        settings: Settings,
        holder: Swappable,
        store: CatalogStore,
        grace_s: float = OLD_MATCHER_GRACE_S,
    ) -> None:
        self.settings = settings
        self.holder = holder
        self.store = store
        self.grace_s = grace_s

    def reload(self, version: str = "") -> Reloaded:
        """Raises ModelError, with the reason, if the version cannot be served."""
        with _RELOAD_LOCK:
            models_dir = self.settings.models_dir
            name = version or current_version(models_dir)
            if not name:
                raise ModelError(f"no current model in {models_dir} (nothing to reload)")
            model = open_version(models_dir, name)
            parts, examples = self.store.parts(), self.store.examples()
            try:
                matcher = build_matcher(self.settings, parts, examples, model=model)
            except Exception as exc:
                # Verified files that still do not load (e.g. a head whose arrays disagree):
                # as unusable as a corrupt directory, and the old model must keep serving.
                # The reason goes to the log only: it may name files of this machine.
                log.exception("model %s failed to load", name)
                raise ModelError(f"model {name} failed to load; see the server log") from exc
            old = self.holder.swap(matcher)
            self._catch_up(matcher, parts)
            timer = threading.Timer(self.grace_s, old.close)
            timer.daemon = True
            timer.start()
            log.info("model reloaded: now serving %s (was %s)", name, old.model_version)
            return Reloaded(name, old.model_version)

    def _catch_up(self, matcher: Matcher, loaded: list[Part]) -> None:
        """Applies catalog changes made while the new matcher was being built.

        Catalog calls write the store, then the matcher they read from the holder; one that
        ran during the build went to the old matcher only. Re-reading the store after the
        swap closes that gap (applying a change twice is harmless).
        """
        before = {p.sku: p for p in loaded}
        now = {p.sku: p for p in self.store.parts()}
        changed = [p for sku, p in now.items() if before.get(sku) != p]
        gone = [sku for sku in before if sku not in now]
        if changed:
            matcher.upsert(changed)
        if gone:
            matcher.retire(gone)
        if changed or gone:
            log.info(
                "reload: applied %d catalog changes made during the build", len(changed) + len(gone)
            )


class AdminService(pb_grpc.AdminServicer):
    def __init__(self, reloader: ModelReloader) -> None:
        self._reloader = reloader

    def ReloadModel(
        self, request: pb.ReloadModelRequest, context: grpc.ServicerContext
    ) -> pb.ReloadModelResponse:
        try:
            if request.version:
                check_version_name(request.version)
            result = self._reloader.reload(request.version)
        except ModelError as exc:
            if request.version and not VERSION_NAME.fullmatch(request.version):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"version: {exc}")
            log.error("ReloadModel refused, the old model keeps serving: %s", exc)
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
            raise AssertionError("unreachable: context.abort raises") from None
        except Exception:
            log.exception("ReloadModel failed; the old model keeps serving")
            context.abort(grpc.StatusCode.INTERNAL, "ReloadModel failed; see the server log")
            raise AssertionError("unreachable: context.abort raises") from None
        return pb.ReloadModelResponse(
            model_version=result.version, previous_version=result.previous
        )


class RegistryWatcher:
    """Polls models/current and reloads when it names a version other than the served one.

    A version that fails to load is not retried until the pointer changes again, so a bad
    promotion costs one error in the log, not one per poll.
    """

    def __init__(
        self,
        reloader: ModelReloader,
        interval_s: float,
        served: Callable[[], str] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("the watch interval must be positive")
        self.reloader = reloader
        self.interval_s = interval_s
        self._served = served or (lambda: reloader.holder().model_version)
        self._stop = threading.Event()
        self._failed: str | None = None
        self._thread = threading.Thread(target=self._run, name="registry-watch", daemon=True)

    def start(self) -> RegistryWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s + 5)

    def check(self) -> str | None:
        """One poll; returns the version it switched to, if any."""
        name = current_version(self.reloader.settings.models_dir)
        if not name or name == self._served() or name == self._failed:
            return None
        try:
            result = self.reloader.reload(name)
        except ModelError as exc:
            self._failed = name
            log.error("registry watch: %s not loaded, the old model keeps serving: %s", name, exc)
            return None
        self._failed = None
        return result.version

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check()
            except Exception:
                log.exception("registry watch: poll failed")
