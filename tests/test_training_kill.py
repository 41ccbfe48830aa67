"""A training run killed midway leaves `models/current` on the last good model.

A first `partmatch train` runs to completion and becomes current. Further `partmatch train`
processes are then SIGKILLed at points found by watching them for real: while fine-tuning
(once they log the mined triplets), while the new version is being staged (its hidden
`.tmp-*` directory in models/ holds a partial encoder copy), right after it is renamed into
place (promotion under way), and at the line each other stage logs first. After each kill
`current` must still name a version that verifies (the one before, unless the promotion had
been logged), and no half-written directory may be listed as a version.

The short version (the staging kill) runs by default; PARTMATCH_LONG_TESTS=1 adds the other
points and a final training that must register and promote normally.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from indexer.registry_admin import list_versions
from matcher.registry import VERSION_NAME, current_version, open_current
from tests.conftest import tiny_catalog
from tests.test_training import make_splits, write_data

pytestmark = pytest.mark.slow

LONG = os.environ.get("PARTMATCH_LONG_TESTS") == "1"
# How often a watcher looks at models/: often enough to land inside the encoder copy.
POLL_S = 0.002


class Training:
    """`partmatch train` in a subprocess, its output drained by a thread."""

    def __init__(self, state: Path, data: Path, *extra: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARTMATCH_")}
        env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        command = ["train", "--state", str(state), "--data", str(data), *extra]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", *command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> bool:
        """SIGKILL; True if it was still running (so the kill, not the end, stopped it)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        code = self.process.wait(timeout=60)
        return code == -signal.SIGKILL

    def finish(self, timeout: float = 600) -> int:
        return self.process.wait(timeout=timeout)


# A watcher waits for its kill point and returns True once there; False if the run ended.
Watcher = Callable[[Training, Path], bool]


def on_log(word: str) -> Watcher:
    def watch(run: Training, models: Path) -> bool:
        while run.running() or not run.lines.empty():
            try:
                if word in run.lines.get(timeout=0.5):
                    return True
            except queue.Empty:
                continue
        return False

    return watch


def staging_encoder(run: Training, models: Path) -> bool:
    """The new version's staging directory exists and its encoder copy has begun."""
    while run.running():
        if any(models.glob(".tmp-*/encoder")):
            return True
        time.sleep(POLL_S)
    return False


def new_version(run: Training, models: Path) -> bool:
    """A version directory that was not there before: renamed into place, not yet current."""
    before = set(_version_dirs(models))
    while run.running():
        if set(_version_dirs(models)) - before:
            return True
        time.sleep(POLL_S)
    return False


def _version_dirs(models: Path) -> list[str]:
    return [p.name for p in models.iterdir() if p.is_dir() and VERSION_NAME.fullmatch(p.name)]


@dataclass(frozen=True)
class KillPoint:
    name: str
    args: tuple[str, ...]
    watch: Watcher
    # Where `current` must be after the kill: "kept" (the version before) or "moved" (the
    # new one: the kill came after the promotion).
    expect: str = "kept"


def check_registry(models: Path) -> str:
    """`current` verifies; every listed version verifies; nothing hidden is listed."""
    current = current_version(models)
    model = open_current(models)  # raises ModelError if current is broken
    assert model is not None and model.version == current
    versions = list_versions(models)
    broken = {v.version: v.problem for v in versions if v.problem}
    assert not broken, f"half-written versions listed as real: {broken}"
    assert all(VERSION_NAME.fullmatch(v.version) for v in versions)
    assert [v.version for v in versions if v.current] == [current]
    return current


def test_killed_training_leaves_current_on_the_last_good_model(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data", tiny_catalog(), make_splits())
    state = tmp_path / "state"
    models = state / "models"
    first = Training(state, data, "--epochs", "0")
    assert first.finish() == 0, "".join(first.output)
    assert check_registry(models) == "v0001"

    # By default the one point where a half-written version exists on disk: each point is
    # another training process, 20-30 s on 2 cores.
    cheap = ("--epochs", "0")
    points = [KillPoint("staging the encoder copy", cheap, staging_encoder)]
    if LONG:
        # The rest of a run, stage by stage, each found by the line the stage logs first.
        points = [
            KillPoint("data loaded", cheap, on_log("training data from")),
            KillPoint("loading the encoder", cheap, on_log("Loading SentenceTransformer")),
            KillPoint("fine-tuning", ("--epochs", "1", "--max-steps", "2"), on_log("mined")),
            KillPoint("measuring the current model", cheap, on_log("cached vectors")),
            *points,
            KillPoint("renamed into place, promoting", cheap, new_version),
            KillPoint("promoted, exiting", cheap, on_log("promoted v"), expect="moved"),
        ]
    outcomes: list[str] = []
    for point in points:
        before = current_version(models)
        run = Training(state, data, *point.args)
        reached = point.watch(run, models)
        killed = run.kill()
        newest = list_versions(models, verify=False)[-1].version
        if point.expect == "moved" and reached and not killed:
            # It exited before the kill arrived; the registry must be as good either way.
            assert check_registry(models) == newest
            outcomes.append(f"{point.name}: exited before the kill, current {newest}")
            continue
        assert reached and killed, f"{point.name}: not reached\n{''.join(run.output)}"
        current = check_registry(models)
        wanted = before if point.expect == "kept" else newest
        assert current == wanted, f"{point.name}: current {current}, expected {wanted}"
        leftovers = len(list(models.glob(".tmp-*")))
        outcomes.append(
            f"{point.name}: killed, current {current}, versions "
            f"{','.join(v.version for v in list_versions(models, verify=False))}, "
            f"{leftovers} staging dir(s) left"
        )
    if LONG:
        # The registry still takes new versions after all those kills.
        last = Training(state, data, "--epochs", "0", "--force")
        assert last.finish() == 0, "".join(last.output)
        outcomes.append(f"a final training completed: current {check_registry(models)}")
    print("training kills:\n  " + "\n  ".join(outcomes))
