"""A small gRPC client for the CLI, the demo and tests."""

from __future__ import annotations

from types import TracebackType

import grpc
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc


class MatchClient:
    def __init__(self, address: str, timeout_s: float = 10.0) -> None:
        self.channel = grpc.insecure_channel(address)
        self.matcher = pb_grpc.MatcherStub(self.channel)
        self.catalog = pb_grpc.CatalogStub(self.channel)
        self.timeout_s = timeout_s

    def match(self, text: str, top_k: int = 5, vehicle: str = "") -> pb.MatchResponse:
        request = pb.MatchRequest(text=text, top_k=top_k, context=pb.MatchContext(vehicle=vehicle))
        response: pb.MatchResponse = self.matcher.Match(request, timeout=self.timeout_s)
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
