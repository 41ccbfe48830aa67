"""A small gRPC client for the CLI, the demo and tests."""

from __future__ import annotations

from types import TracebackType

from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.channel import open_channel, token_metadata
from matcher.config import Settings


class MatchClient:
    """Match over gRPC with the transport and token of `settings` (server_ca, client_cert,
    client_key, client_token)."""

    def __init__(self, address: str, settings: Settings, timeout_s: float = 10.0) -> None:
        self.channel = open_channel(address, settings)
        self.matcher = pb_grpc.MatcherStub(self.channel)
        self.metadata = token_metadata(settings.client_token)
        self.timeout_s = timeout_s

    def match(self, text: str, top_k: int = 5, vehicle: str = "") -> pb.MatchResponse:
        request = pb.MatchRequest(text=text, top_k=top_k, context=pb.MatchContext(vehicle=vehicle))
        response: pb.MatchResponse = self.matcher.Match(
            request, timeout=self.timeout_s, metadata=self.metadata
        )
        return response

    def __enter__(self) -> MatchClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.channel.close()


def print_response(text: str, response: pb.MatchResponse) -> None:
    decision = pb.Decision.Name(response.decision)
    flag = " (degraded)" if response.degraded else ""
    print(f"\n{text!r} -> {decision}{flag}")
    for rank, c in enumerate(response.candidates, start=1):
        signals = " ".join(f"{k}={v:.2f}" for k, v in sorted(c.signals.items()))
        print(f"  {rank}. {c.sku:<14} {c.confidence:5.2f}  {c.name}  [{signals}]")
        for mark in c.marks:
            print(f"       {'ok' if mark.agrees else 'CONFLICT'}  {mark.explanation}")
