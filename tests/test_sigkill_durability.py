"""Acknowledged writes survive a SIGKILL of the real server process.

The server is `partmatch serve` in a subprocess on a real state directory. Writer threads
send Catalog.UpsertParts and Feedback.ReportMapping continuously; as soon as enough have been
acknowledged the server gets SIGKILL, with other writes still in flight. The SQLite store is
then reopened (recovering its WAL) and every write the server acknowledged must be there; the
ones cut off in flight may or may not be, but the file must be intact either way.

A SIGKILL loses the process, not the operating system's page cache, so this checks that no
write is acknowledged before its transaction commits; what a power cut may lose is the
`synchronous` setting's business (tests/test_sqlite_synchronous.py, RELIABILITY.md).

The short version (one kill) runs by default; PARTMATCH_LONG_TESTS=1 runs several kills in a
loop on the same state, each restart also serving every earlier round's writes.
"""

from __future__ import annotations

import itertools
import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.catalog_store import SqliteCatalogStore
from matcher.examples import Example
from tests.conftest import tiny_catalog, tiny_history

pytestmark = pytest.mark.slow

LONG = os.environ.get("PARTMATCH_LONG_TESTS") == "1"
TOKEN = "sigkill-test-token-0123456789"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
# Writer threads: enough that the kill lands while some writes are in flight.
WRITERS = 4
# A sku of the tiny catalog that feedback reports name.
FEEDBACK_SKU = "ALT"
_SERVING = re.compile(r"partmatch serving on (\S+):(\d+)")


@dataclass
class Round:
    """What one server lifetime was sent, and what it acknowledged."""

    upserts: list[str] = field(default_factory=list)  # acknowledged skus
    feedback: list[str] = field(default_factory=list)  # acknowledged report texts
    attempted: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def acked(self) -> int:
        with self.lock:
            return len(self.upserts) + len(self.feedback)


class ServerProcess:
    """`partmatch serve` on a free port, its output drained by a thread (a full pipe would
    block the server), the address read from the line it prints once it listens."""

    def __init__(self, state: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARTMATCH_")}
        env.update(
            HF_HUB_OFFLINE="1",
            TOKENIZERS_PARALLELISM="false",
            PARTMATCH_TOKENS=f"writer:catalog+storefront+staff:{TOKEN}",
        )
        # Port 0: the server picks a free one and prints it; no race for a port.
        command = ["serve", "--state", str(state), "--address", "127.0.0.1:0"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", *command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.address = self._wait_listening(timeout=240)

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def _wait_listening(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if found := _SERVING.search(line):
                return f"{found.group(1)}:{found.group(2)}"
        self.process.kill()
        raise AssertionError("the server did not start:\n" + "".join(self.output))

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def seed_state(state: Path) -> Path:
    """The tiny catalog and history written straight into the store `partmatch serve` reads."""
    db = state / "catalog.db"
    store = SqliteCatalogStore(db)
    try:
        store.replace_all(tiny_catalog(), tiny_history())
    finally:
        store.close()
    return db


def write_until_killed(server: ServerProcess, number: int, target: int) -> Round:
    """Writer threads write until `target` writes are acknowledged; then SIGKILL, at once,
    whatever is in flight. Every acknowledgement that arrived at all is recorded."""
    sent = Round()
    ids = itertools.count()
    enough = threading.Event()
    with grpc.insecure_channel(server.address) as channel:
        grpc.channel_ready_future(channel).result(timeout=60)
        catalog = pb_grpc.CatalogStub(channel)
        feedback = pb_grpc.FeedbackStub(channel)

        def writer() -> None:
            while True:
                with sent.lock:
                    i = next(ids)
                    sent.attempted += 1
                try:
                    if i % 2 == 0:
                        sku = f"KILL-{number}-{i}"
                        part = pb.Part(sku=sku, name=f"kill test part {number} {i}")
                        answer = catalog.UpsertParts(
                            pb.UpsertPartsRequest(parts=[part]), metadata=AUTH, timeout=60
                        )
                        assert answer.upserted == 1
                        with sent.lock:
                            sent.upserts.append(sku)
                    else:
                        text = f"kill test report {number} {i}"
                        report = pb.ReportMappingRequest(text=text, sku=FEEDBACK_SKU)
                        recorded = feedback.ReportMapping(report, metadata=AUTH, timeout=60)
                        assert recorded.recorded
                        with sent.lock:
                            sent.feedback.append(text)
                except grpc.RpcError as exc:
                    # Only the kill may end a writer; any other refusal is a failure.
                    if enough.is_set() and exc.code() == grpc.StatusCode.UNAVAILABLE:
                        return
                    raise
                if sent.acked >= target:
                    enough.set()

        errors: list[BaseException] = []

        def run(target_fn: Callable[[], None]) -> None:
            try:
                target_fn()
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
                enough.set()

        threads = [threading.Thread(target=run, args=(writer,)) for _ in range(WRITERS)]
        for thread in threads:
            thread.start()
        assert enough.wait(timeout=300), "the writes were not acknowledged in time"
        if not errors:
            server.kill()
        else:
            server.stop()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors[0]
    return sent


def check_store(db: Path, rounds: list[Round]) -> int:
    """Reopens the store after the kill; every acknowledged write must be there. Returns how
    many writes were checked."""
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = SqliteCatalogStore(db)
    try:
        skus = {p.sku for p in store.parts()}
        examples = set(store.examples())
    finally:
        store.close()
    checked = 0
    for sent in rounds:
        missing = [s for s in sent.upserts if s not in skus]
        assert not missing, f"acknowledged upserts lost to SIGKILL: {missing}"
        lost = [t for t in sent.feedback if Example(t, FEEDBACK_SKU) not in examples]
        assert not lost, f"acknowledged feedback lost to SIGKILL: {lost}"
        checked += len(sent.upserts) + len(sent.feedback)
    return checked


def check_served(server: ServerProcess, rounds: list[Round]) -> None:
    """A restarted server loaded the writes of every earlier lifetime from the store."""
    with grpc.insecure_channel(server.address) as channel:
        catalog = pb_grpc.CatalogStub(channel)
        for sent in rounds:
            for sku in sent.upserts[:: max(1, len(sent.upserts) // 5)]:
                part = catalog.GetPart(pb.GetPartRequest(sku=sku), metadata=AUTH, timeout=30)
                assert part.sku == sku and part.active


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    kills = 8 if LONG else 1
    per_round = 60 if LONG else 20
    db = seed_state(tmp_path / "state")
    rounds: list[Round] = []
    checked = 0
    started = time.monotonic()
    for number in range(kills):
        server = ServerProcess(tmp_path / "state")
        try:
            check_served(server, rounds)
            rounds.append(write_until_killed(server, number, per_round))
        finally:
            server.stop()
        # Checked after every kill: a later round must not hide an earlier loss.
        checked = check_store(db, rounds)
    in_flight = sum(r.attempted - r.acked for r in rounds)
    figures = (
        f"SIGKILL durability: {checked} acknowledged writes checked "
        f"({sum(len(r.upserts) for r in rounds)} UpsertParts, "
        f"{sum(len(r.feedback) for r in rounds)} ReportMapping), {len(rounds)} kills survived, "
        f"{in_flight} writes cut off unacknowledged, {time.monotonic() - started:.0f}s"
    )
    print(figures)
    assert len(rounds) == kills and checked >= kills * per_round, figures
