"""gRPC servicers: translate between the wire types and the matcher, and map errors to codes.

Every handler validates the whole request before changing anything, and turns every refusal
into INVALID_ARGUMENT or NOT_FOUND with a message that names what is wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import grpc
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.attributes.marks import Mark
from matcher.catalog import CatalogError, Part, check_sku, check_unique, make_part
from matcher.catalog_store import CatalogStore, UnknownSkus
from matcher.engine import BatchItem, Candidate, Matcher, MatchInputError, MatchResult
from matcher.grpc_errors import guard
from matcher.limits import DEFAULT_LIMITS, Limits
from matcher.page_token import BadPageToken, after_sku, sku_token

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


class DeadlineExceeded(RuntimeError):
    """The caller's deadline passed: no use computing an answer nobody will read."""


def _check_deadline(context: grpc.ServicerContext) -> None:
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        raise DeadlineExceeded("the call's deadline passed before it was answered")


_ERROR_CODES = (
    (DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
    (MatchInputError, grpc.StatusCode.INVALID_ARGUMENT),
    (CatalogError, grpc.StatusCode.INVALID_ARGUMENT),
    (BadPageToken, grpc.StatusCode.INVALID_ARGUMENT),
    (UnknownSkus, grpc.StatusCode.NOT_FOUND),
)
Response = TypeVar("Response")


def _guard(context: grpc.ServicerContext, call: Callable[[], Response], what: str) -> Response:
    return guard(context, call, what, _ERROR_CODES)


def candidate_to_proto(candidate: Candidate) -> pb.Candidate:
    """A candidate as Match answers it and the review queue shows it (features stay inside)."""
    return pb.Candidate(
        sku=candidate.sku,
        name=candidate.name,
        confidence=candidate.confidence,
        signals=dict(candidate.signals),
        marks=[mark_to_proto(m) for m in candidate.marks],
    )


def mark_to_proto(mark: Mark) -> pb.AttributeMark:
    # The explanation travels too, so every client words a conflict the same way.
    return pb.AttributeMark(
        attribute=mark.attribute,
        stated=mark.stated,
        value=mark.value,
        agrees=mark.agrees,
        explanation=mark.explanation,
    )


def result_to_proto(result: MatchResult) -> pb.MatchResponse:
    return pb.MatchResponse(
        candidates=[candidate_to_proto(c) for c in result.candidates],
        decision=result.decision.value,
        model_version=result.model_version,
        request_id=result.request_id,
        degraded=result.degraded,
        review_id=result.review_id,
    )


def part_to_proto(part: Part) -> pb.Part:
    return pb.Part(
        sku=part.sku,
        name=part.name,
        description=part.description,
        aliases=list(part.aliases),
        attributes=dict(part.attributes),
        active=part.active,
    )


def part_from_proto(message: pb.Part, index: int, limits: Limits = DEFAULT_LIMITS) -> Part:
    # A part sent to UpsertParts is active: retiring is RetireParts' job.
    return make_part(
        sku=message.sku,
        name=message.name,
        description=message.description,
        aliases=list(message.aliases),
        attributes=dict(message.attributes),
        active=True,
        where=f"parts[{index}]",
        limits=limits,
    )


# Field tags and length prefixes around each part and the token in a ListParts answer.
_PART_OVERHEAD_BYTES = 16
_PAGE_OVERHEAD_BYTES = 1024


class MatcherService(pb_grpc.MatcherServicer):
    def __init__(
        self,
        matcher: Callable[[], Matcher],
        on_results: Callable[[list[MatchResult]], list[MatchResult]] | None = None,
    ) -> None:
        # A callable, not a Matcher: the server swaps in a new model without a restart.
        self._matcher = matcher
        # Side effects of answers (the review queue), applied once per call to all of them.
        self._on_results = on_results or (lambda results: results)

    def Match(self, request: pb.MatchRequest, context: grpc.ServicerContext) -> pb.MatchResponse:
        def run() -> pb.MatchResponse:
            _check_deadline(context)
            result = self._matcher().match(
                request.text, request.top_k, vehicle=request.context.vehicle
            )
            return result_to_proto(self._on_results([result])[0])

        return _guard(context, run, "Match")

    def MatchBatch(
        self, request: pb.MatchBatchRequest, context: grpc.ServicerContext
    ) -> pb.MatchBatchResponse:
        def run() -> pb.MatchBatchResponse:
            matcher = self._matcher()
            if not request.requests:
                raise MatchInputError("requests must not be empty")
            if len(request.requests) > matcher.limits.max_batch:
                raise MatchInputError(
                    f"requests has {len(request.requests)} items; "
                    f"the limit is {matcher.limits.max_batch}"
                )
            # Validate everything first: a bad item fails the batch before any work is done.
            for i, item in enumerate(request.requests):
                try:
                    matcher.validate(item.text, item.top_k, item.context.vehicle)
                except MatchInputError as exc:
                    raise MatchInputError(f"requests[{i}]: {exc}") from None
            results = matcher.match_batch(
                [BatchItem(r.text, r.top_k, r.context.vehicle) for r in request.requests],
                before_each=lambda: _check_deadline(context),
            )
            # Only once every item is answered: the batch's reviews are queued whole or not.
            return pb.MatchBatchResponse(
                responses=[result_to_proto(r) for r in self._on_results(results)]
            )

        return _guard(context, run, "MatchBatch")


class CatalogService(pb_grpc.CatalogServicer):
    def __init__(
        self, store: CatalogStore, matcher: Callable[[], Matcher], limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self._store = store
        self._matcher = matcher
        self._limits = limits

    def UpsertParts(
        self, request: pb.UpsertPartsRequest, context: grpc.ServicerContext
    ) -> pb.UpsertPartsResponse:
        def run() -> pb.UpsertPartsResponse:
            if not request.parts:
                raise CatalogError("parts must not be empty")
            most = self._limits.max_parts_per_call
            if len(request.parts) > most:
                raise CatalogError(f"parts has {len(request.parts)} items; at most {most}")
            parts = [part_from_proto(p, i, self._limits) for i, p in enumerate(request.parts)]
            check_unique(parts, "parts")
            self._store.upsert(parts)
            self._matcher().upsert(parts)
            return pb.UpsertPartsResponse(upserted=len(parts))

        return _guard(context, run, "UpsertParts")

    def RetireParts(
        self, request: pb.RetirePartsRequest, context: grpc.ServicerContext
    ) -> pb.RetirePartsResponse:
        def run() -> pb.RetirePartsResponse:
            skus = list(dict.fromkeys(request.skus))
            if not skus:
                raise CatalogError("skus must not be empty")
            if len(skus) > self._limits.max_parts_per_call:
                raise CatalogError(
                    f"skus has {len(skus)} items; at most {self._limits.max_parts_per_call}"
                )
            for i, sku in enumerate(skus):
                check_sku(sku, f"skus[{i}]", self._limits)
            self._store.retire(skus)
            self._matcher().retire(skus)
            return pb.RetirePartsResponse(retired=len(skus))

        return _guard(context, run, "RetireParts")

    def GetPart(self, request: pb.GetPartRequest, context: grpc.ServicerContext) -> pb.Part:
        def run() -> pb.Part:
            check_sku(request.sku, "sku", self._limits)
            part = self._store.get(request.sku)
            if part is None:
                raise UnknownSkus([request.sku])
            return part_to_proto(part)

        return _guard(context, run, "GetPart")

    def ListParts(
        self, request: pb.ListPartsRequest, context: grpc.ServicerContext
    ) -> pb.ListPartsResponse:
        def run() -> pb.ListPartsResponse:
            size = request.page_size or DEFAULT_PAGE_SIZE
            if not 0 < size <= MAX_PAGE_SIZE:
                raise CatalogError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {size}")
            after = after_sku(request.page_token)
            parts = self._store.page(size + 1, after, request.include_retired)
            more = len(parts) > size
            page: list[pb.Part] = []
            # A page stops short of the message limit, whatever the parts weigh; the rest
            # comes on the next page.
            budget = self._limits.max_message_bytes - _PAGE_OVERHEAD_BYTES
            for part in parts[:size]:
                message = part_to_proto(part)
                budget -= message.ByteSize() + _PART_OVERHEAD_BYTES
                if budget < 0 and page:
                    more = True
                    break
                page.append(message)
            token = sku_token(page[-1].sku) if more and page else ""
            return pb.ListPartsResponse(parts=page, next_page_token=token)

        return _guard(context, run, "ListParts")
