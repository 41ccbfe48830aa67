"""Pytest fixtures for tests that need an Elasticsearch 8 node.

Registered as a plugin from tests/conftest.py. `es_url` comes from the environment (start a node
with `eval "$(bash scripts/search-node.sh up)"`); without ES_URL the tests that need it are
skipped, except under CI=true, where a missing node is a failure: a CI that silently skipped
every search test would look green and prove nothing.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.elastic.client import (
    BackendError,
    BackendUnavailable,
    SearchClient,
    make_client,
    node_version,
)
from matcher.elastic.index_writer import drop_prefix

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "search-node.sh"


@pytest.fixture(scope="session")
def es_url() -> str:
    url = os.environ.get("ES_URL", "").strip()
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            "ES_URL is not set but CI=true: start a node first "
            '(eval "$(bash scripts/search-node.sh up)") and export ES_URL',
            pytrace=False,
        )
    pytest.skip("ES_URL not set (bash scripts/search-node.sh up starts a local node)")


@pytest.fixture(scope="session")
def es_client(es_url: str) -> Iterator[SearchClient]:
    """A client for set-up and inspection; generous timeout, unlike a signal's search client."""
    client = make_client(es_url, timeout_s=30.0)
    yield client
    client.close()


@pytest.fixture
def es_prefix(request: pytest.FixtureRequest, es_client: SearchClient) -> Iterator[str]:
    """An index prefix of this test only; its indexes are dropped afterwards."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40]
    prefix = f"t-{name.strip('-')}-{uuid.uuid4().hex[:6]}"
    yield prefix
    drop_prefix(es_client, prefix)


def pytest_report_header() -> str | None:
    """The node the search tests run against, in the test log's header."""
    url = os.environ.get("ES_URL", "").strip()
    if not url:
        return None
    client = make_client(url, timeout_s=10.0)
    try:
        return f"search node: Elasticsearch {node_version(client)} at {url}"
    except (BackendError, BackendUnavailable) as exc:
        return f"search node at {url}: no answer ({exc})"
    finally:
        client.close()


class SearchNode:
    """A private node on its own port, started and stopped through scripts/search-node.sh."""

    def __init__(self, port: int, state_dir: Path) -> None:
        self.port = port
        self.state_dir = state_dir
        self.url = f"http://127.0.0.1:{port}"

    def _script(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "SEARCH_NODE_DIR": str(self.state_dir)}
        return subprocess.run(
            ["bash", str(SCRIPT), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )

    def start(self) -> None:
        done = self._script("up", str(self.port))
        if done.returncode != 0:
            raise RuntimeError(f"search-node.sh up {self.port} failed:\n{done.stderr}")

    def stop(self) -> None:
        done = self._script("down")
        if done.returncode != 0:
            raise RuntimeError(f"search-node.sh down failed:\n{done.stderr}")

    def is_up(self) -> bool:
        return self._script("status").returncode == 0

    def ensure_up(self) -> None:
        self.thaw()
        if not self.is_up():
            self.start()

    @property
    def pid(self) -> int:
        return int((self.state_dir / "pid").read_text())

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers (a hung node)."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        pid_file = self.state_dir / "pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGCONT)


def free_port(first: int = 9250, last: int = 9299) -> int:
    """A free port on 127.0.0.1 in [first, last]."""
    for port in random.sample(range(first, last + 1), last - first + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}..{last}")


@pytest.fixture(scope="module")
def private_node(es_url: str) -> Iterator[SearchNode]:
    """A node of this test module alone, which its tests may stop, freeze and restart.

    Gated on es_url like every search test: where one node can run, so can a second.
    """
    state_dir = Path(tempfile.mkdtemp(prefix="partmatch-private-node-"))
    node = SearchNode(free_port(), state_dir)
    try:
        node.start()
        yield node
    finally:
        node.thaw()
        node.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
