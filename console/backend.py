"""The console's view of the partmatch server: a gRPC client acting for the logged-in person.

The console is a client of the Review and Catalog APIs rather than a second reader and writer
of the SQLite file: the server stays the one place that authenticates, validates and writes,
and the console can run on any host that reaches the server. Each call carries the logged-in
person's own staff token, so the server checks every action against that person.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import grpc
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from console.explain import search_parts
from matcher.channel import open_channel
from matcher.config import Settings

# ListPending's own limit; "next item" looks this far down the queue.
QUEUE_WINDOW = 500
# Staff search the catalog many times a minute; a part added a few seconds ago can wait.
CATALOG_TTL_S = 30.0


def dial_address(address: str) -> str:
    """A listen address made dialable: a server bound to 0.0.0.0 is reached on loopback."""
    host, _, port = address.rpartition(":")
    return f"127.0.0.1:{port}" if host in ("0.0.0.0", "[::]", "::") else address


class Backend:
    def __init__(
        self,
        address: str,
        staff: Mapping[str, str],
        settings: Settings | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.address = dial_address(address)
        self._staff = dict(staff)
        # The transport (TLS, mTLS, message limits) of the settings; each call carries the
        # logged-in person's own token, never one of the console's.
        self._channel = open_channel(self.address, settings or Settings.from_env())
        self._review = pb_grpc.ReviewStub(self._channel)
        self._catalog = pb_grpc.CatalogStub(self._channel)
        self._timeout_s = timeout_s
        self._parts: dict[str, pb.Part] = {}
        self._parts_at = float("-inf")
        self._parts_lock = threading.Lock()

    def _auth(self, user: str) -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self._staff[user]}"),)

    # -- review ----------------------------------------------------------------------------

    def list_pending(
        self,
        user: str,
        page_size: int = 50,
        page_token: str = "",
        text_contains: str = "",
        candidate_sku: str = "",
    ) -> pb.ListPendingResponse:
        request = pb.ListPendingRequest(
            page_size=page_size,
            page_token=page_token,
            text_contains=text_contains,
            candidate_sku=candidate_sku,
        )
        response: pb.ListPendingResponse = self._review.ListPending(
            request, metadata=self._auth(user), timeout=self._timeout_s
        )
        return response

    def get(self, user: str, review_id: str) -> pb.ReviewItem:
        item: pb.ReviewItem = self._review.GetReview(
            pb.GetReviewRequest(id=review_id), metadata=self._auth(user), timeout=self._timeout_s
        )
        return item

    def resolve(self, user: str, review_id: str, sku: str | None) -> pb.ReviewItem:
        request = pb.ResolveReviewRequest(
            id=review_id, sku=sku or "", names_no_part=sku is None, reviewer=user
        )
        item: pb.ReviewItem = self._review.ResolveReview(
            request, metadata=self._auth(user), timeout=self._timeout_s
        )
        return item

    def next_after(self, user: str, review_id: str) -> str | None:
        """The pending item after this one in queue order; wraps to the top at the end."""
        ids = [i.id for i in self.list_pending(user, page_size=QUEUE_WINDOW).items]
        if review_id in ids:
            position = ids.index(review_id)
            ids = ids[position + 1 :] + ids[:position]
        return ids[0] if ids else None

    # -- catalog ---------------------------------------------------------------------------

    # Catalog reads need a known caller too: they carry the logged-in person's token. The
    # cache is shared, as every staff member may read the whole catalog.

    def active_parts(self, user: str) -> dict[str, pb.Part]:
        with self._parts_lock:
            if time.monotonic() - self._parts_at > CATALOG_TTL_S:
                self._parts = self._load_parts(user)
                self._parts_at = time.monotonic()
            return self._parts

    def part(self, user: str, sku: str) -> pb.Part | None:
        """A part, retired or not (a candidate may have been retired since it was queued)."""
        cached = self.active_parts(user).get(sku)
        if cached is not None:
            return cached
        try:
            part: pb.Part = self._catalog.GetPart(
                pb.GetPartRequest(sku=sku), metadata=self._auth(user), timeout=self._timeout_s
            )
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return part

    def search(self, user: str, query: str, limit: int = 10) -> list[pb.Part]:
        return search_parts(list(self.active_parts(user).values()), query, limit)

    def _load_parts(self, user: str) -> dict[str, pb.Part]:
        parts: dict[str, pb.Part] = {}
        token = ""
        while True:
            page: pb.ListPartsResponse = self._catalog.ListParts(
                pb.ListPartsRequest(page_size=1000, page_token=token),
                metadata=self._auth(user),
                timeout=self._timeout_s,
            )
            parts.update((p.sku, p) for p in page.parts)
            token = page.next_page_token
            if not token:
                return parts

    def close(self) -> None:
        self._channel.close()
