"""Switching models in a running server: no dropped requests, damaged models refused.

A real gRPC server on localhost serves registry versions made of the real base encoder and
two different heads; clients call Match in a loop while the model is reloaded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from indexer.head_training import fit_head
from indexer.registry_admin import promote, register, rollback
from matcher.admin_service import ModelReloader, RegistryWatcher
from matcher.app import build_current_matcher
from matcher.catalog import Part
from matcher.catalog_store import SqliteCatalogStore
from matcher.channel import authorized
from matcher.config import Settings
from matcher.embedding_cache import write_cache
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.registry import CURRENT, METADATA, current_version
from matcher.server import MatcherHolder, create_server
from tests.conftest import TESTER_TOKEN

pytestmark = pytest.mark.slow

TEXTS = ["bonnet latch", "rear brake pads", "alternater", "thing you hold to drive", "sparkplug"]


@dataclass
class Served:
    settings: Settings
    holder: MatcherHolder
    store: SqliteCatalogStore
    channel: grpc.Channel
    versions: tuple[str, str]
    address: str

    @property
    def models_dir(self) -> Path:
        return self.settings.models_dir

    def match(self, text: str = "bonnet latch") -> pb.MatchResponse:
        response: pb.MatchResponse = pb_grpc.MatcherStub(self.channel).Match(
            pb.MatchRequest(text=text), timeout=60
        )
        return response

    def reload(self, version: str = "") -> pb.ReloadModelResponse:
        response: pb.ReloadModelResponse = pb_grpc.AdminStub(self.channel).ReloadModel(
            pb.ReloadModelRequest(version=version), timeout=300
        )
        return response


@pytest.fixture
def served(
    settings: Settings, encoder: Encoder, parts: list[Part], history: list[Example]
) -> Iterator[Served]:
    vectors = encoder.encode([e.text for e in history])
    encoder.encode([p.catalog_text() for p in parts])
    # Registered encoders are copies of the base model (same fingerprint): with its vectors
    # cached, each load skips re-encoding the catalog.
    write_cache(settings.state_dir, encoder.fingerprint, encoder.known_vectors())
    versions = tuple(
        register(
            settings.models_dir,
            Path(settings.model_path),
            fit_head(vectors, [e.sku for e in history], c=c),
            None,
            {"metrics": {"acc@1": 0.5}},
        )
        for c in (1.0, 100.0)
    )
    assert versions == ("v0001", "v0002")
    promote(settings.models_dir, "v0001")
    store = SqliteCatalogStore(settings.catalog_db)
    store.replace_all(parts, history)
    holder = MatcherHolder(build_current_matcher(settings, parts, history))
    server, port = create_server(settings, holder, store)
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield Served(
            settings,
            holder,
            store,
            authorized(channel, TESTER_TOKEN),
            ("v0001", "v0002"),
            f"127.0.0.1:{port}",
        )
    server.stop(None)
    store.close()


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_reload_under_load_drops_nothing(served: Served) -> None:
    v1, v2 = served.versions
    assert served.match().model_version == v1
    failures: list[str] = []
    answers: list[tuple[float, str]] = []  # (when the request was sent, model version)
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        stub = pb_grpc.MatcherStub(served.channel)
        i = worker
        while not stop.is_set():
            sent = time.monotonic()
            try:
                response = stub.Match(pb.MatchRequest(text=TEXTS[i % len(TEXTS)]), timeout=60)
            except grpc.RpcError as exc:
                with lock:
                    failures.append(f"{exc.code()}: {exc.details()}")
            else:
                with lock:
                    # A matcher caught half-loaded would answer with nothing.
                    if not response.candidates:
                        failures.append(f"no candidates from {response.model_version}")
                    answers.append((sent, response.model_version))
            i += 1

    def wait_for(count: int, deadline_s: float = 120) -> None:
        end = time.monotonic() + deadline_s
        while len(answers) < count and time.monotonic() < end:
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for(20)
        promote(served.models_dir, v2, force=True)
        response = served.reload()
        reloaded_at = time.monotonic()
        wait_for(len(answers) + 20)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert failures == []
    assert (response.model_version, response.previous_version) == (v2, v1)
    versions = {version for _, version in answers}
    assert versions == {v1, v2}
    # Every request sent after the reload answered, from the new model.
    assert {version for sent, version in answers if sent > reloaded_at} == {v2}
    assert served.match().model_version == v2


@pytest.mark.parametrize("damage", ["flip a byte in head.npz", "delete metadata.json"])
def test_a_damaged_model_is_refused_and_the_old_one_keeps_serving(
    served: Served, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    v1, v2 = served.versions
    # Promoted while sound, damaged afterwards (a bad copy, a full disk, a stray edit).
    promote(served.models_dir, v2, force=True)
    if damage.startswith("flip"):
        flip_byte(served.models_dir / v2 / "head.npz")
        reason = "checksum mismatch for head.npz"
    else:
        (served.models_dir / v2 / METADATA).unlink()
        reason = f"no {METADATA}"

    caplog.set_level(logging.ERROR, logger="matcher.admin_service")
    for version in ("", v2):
        with pytest.raises(grpc.RpcError) as error:
            served.reload(version)
        assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason in (error.value.details() or "")
    assert "old model keeps serving" in caplog.text and reason in caplog.text

    response = served.match("rear brake pads")
    assert response.model_version == v1 and response.candidates[0].sku == "BRK-R"
    # A sound version still loads afterwards.
    assert served.reload(v1).model_version == v1


def test_reload_without_a_current_model_is_refused(served: Served) -> None:
    (served.models_dir / CURRENT).unlink()
    with pytest.raises(grpc.RpcError) as error:
        served.reload()
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "no current model" in (error.value.details() or "")
    assert served.match().model_version == served.versions[0]


def test_the_watcher_follows_the_current_pointer(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    v1, v2 = served.versions
    watcher = RegistryWatcher(
        ModelReloader(served.settings, served.holder, served.store), interval_s=0.2
    ).start()

    def served_version_becomes(version: str, deadline_s: float = 120) -> bool:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if served.match().model_version == version:
                return True
            time.sleep(0.1)
        return False

    caplog.set_level(logging.ERROR, logger="matcher.admin_service")
    try:
        promote(served.models_dir, v2, force=True)
        assert served_version_becomes(v2)
        rollback(served.models_dir)
        assert served_version_becomes(v1)

        promote(served.models_dir, v2, force=True)
        assert served_version_becomes(v2)
        # Someone points `current` at a version that has been damaged since.
        flip_byte(served.models_dir / v1 / "head.npz")
        (served.models_dir / CURRENT).write_text(v1 + "\n")
        assert current_version(served.models_dir) == v1
        time.sleep(1.5)  # several polls
    finally:
        watcher.stop()
    assert served.match().model_version == v2
    # One error for the damaged version, not one per poll.
    assert caplog.text.count(f"registry watch: {v1} not loaded") == 1


def test_match_in_process_answers_with_the_current_model(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    assert main(["match", "rear brake pads", "--state", str(served.settings.state_dir)]) == 0
    # The current version's classification head scores the candidates; the base model has none.
    assert "classifier=" in capsys.readouterr().out


def test_reload_cli(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import main

    v1, v2 = served.versions
    promote(served.models_dir, v2, force=True)
    # Reloading is the admin role's: without a token the CLI is refused, and says why.
    assert main(["reload", "--server", served.address]) == 1
    assert "UNAUTHENTICATED" in capsys.readouterr().err
    assert served.match().model_version == v1
    monkeypatch.setenv("PARTMATCH_CLIENT_TOKEN", TESTER_TOKEN)
    assert main(["reload", "--server", served.address]) == 0
    assert f"now serves {v2} (was {v1})" in capsys.readouterr().out
    flip_byte(served.models_dir / v1 / "head.npz")
    assert main(["reload", "--server", served.address, "--version", v1]) == 1
    assert "FAILED_PRECONDITION" in capsys.readouterr().err
    assert served.match().model_version == v2
