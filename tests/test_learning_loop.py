"""The loop closes: a person corrects an answer, a retrain learns it, the server serves it.

Everything goes through the running server where a deployment would: Match queues the text,
ResolveReview labels it, `train` (epochs=0: no fine-tuning, but the head is refitted and the
history-based signals rebuilt on the store's examples) registers and promotes a version, and
Admin.ReloadModel swaps it in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from indexer.train import holdout, train
from matcher.app import build_matcher
from matcher.catalog import Part
from matcher.catalog_store import SqliteCatalogStore
from matcher.channel import authorized
from matcher.config import Settings
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.server import MatcherHolder, create_server
from tests.conftest import TESTER, TESTER_TOKEN

TOKEN = "alice-token-0123456789"
# The base model ranks the steering wheel first ("thing you ... while driving" is in its
# history); the part meant is the alternator.
TEXT = "the thing that charges while driving"
CORRECT = "ALT"
SEED = 0


class Running:
    def __init__(self, settings: Settings, port: int) -> None:
        self.settings = settings
        # Every call as the tester (all roles), unless it names its own caller.
        self.channel = authorized(grpc.insecure_channel(f"127.0.0.1:{port}"), TESTER_TOKEN)
        self.matcher = pb_grpc.MatcherStub(self.channel)
        self.review = pb_grpc.ReviewStub(self.channel)
        self.admin = pb_grpc.AdminStub(self.channel)

    def match(self, text: str) -> pb.MatchResponse:
        response: pb.MatchResponse = self.matcher.Match(pb.MatchRequest(text=text), timeout=60)
        return response


@pytest.fixture
def running(
    tmp_path: Path, encoder: Encoder, parts: list[Part], history: list[Example]
) -> Iterator[Running]:
    settings = Settings.from_env(
        env={},
        state_dir=tmp_path / "state",
        grpc_address="127.0.0.1:0",
        staff_tokens=f"alice:{TOKEN}",
        tokens=TESTER,
    )
    store = SqliteCatalogStore(settings.catalog_db)
    store.replace_all(parts, history)
    # No registered model yet: the server starts on the base encoder, as a fresh install does.
    holder = MatcherHolder(build_matcher(settings, parts, history, encoder=encoder))
    server, port = create_server(settings, holder, store)
    server.start()
    running = Running(settings, port)
    yield running
    running.channel.close()
    server.stop(grace=None).wait()
    holder().close()
    store.close()


@pytest.mark.slow
def test_a_correction_is_learned_by_the_next_model(running: Running) -> None:
    # Precondition: the text lands on the training side of train's seeded holdout.
    assert holdout([Example(TEXT, CORRECT)], SEED)[0], "pick a TEXT that is trained on"

    before = running.match(TEXT)
    assert before.decision == pb.NEEDS_REVIEW and before.review_id
    assert before.candidates[0].sku != CORRECT
    control_before = running.match("bonnet wont open").candidates[0].sku

    resolved = running.review.ResolveReview(
        pb.ResolveReviewRequest(id=before.review_id, sku=CORRECT, reviewer="alice"),
        metadata=(("authorization", f"Bearer {TOKEN}"),),
    )
    assert resolved.status == pb.RESOLVED

    result = train(running.settings, epochs=0, seed=SEED, progress=False)
    assert result.promoted, result.reason
    reloaded = running.admin.ReloadModel(pb.ReloadModelRequest(), timeout=120)
    assert reloaded.model_version == result.version

    after = running.match(TEXT)
    assert after.model_version == result.version
    assert after.candidates[0].sku == CORRECT
    assert after.candidates[0].confidence > before.candidates[0].confidence
    # It learned this text, not "everything is an alternator".
    assert running.match("bonnet wont open").candidates[0].sku == control_before == "HOOD-L"
