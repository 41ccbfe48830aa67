"""What the templates show: review items turned into plain values, computed in Python so the
templates only lay them out (and escape them: they never build HTML from data)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from partmatch.v1 import partmatch_pb2 as pb

from console.explain import NamedPart, Segment, highlight, matched_words
from matcher.analysis import terms

QUEUE_TEXT_CHARS = 140
MARK_CHARS = 120


@dataclass(frozen=True)
class MarkView:
    """One attribute the customer stated, against this candidate's value of it."""

    attribute: str
    stated: str
    value: str
    agrees: bool
    # The server's wording of the comparison (matcher.attributes.Mark.explanation).
    explanation: str

    @property
    def text(self) -> str:
        """The badge: short when the part agrees (what it is), the whole comparison when it
        conflicts, since that is what the reviewer must weigh."""
        if self.agrees:
            return short(f"{self.attribute}: {self.value}", MARK_CHARS)
        return short(self.explanation, MARK_CHARS)


@dataclass(frozen=True)
class CandidateView:
    rank: int
    sku: str
    name: list[Segment]
    aliases: list[list[Segment]]
    matched: list[str]
    confidence: float
    signals: list[tuple[str, float]]
    # False when the part was retired (or deleted) after the item was queued.
    choosable: bool
    # In the matcher's attribute order, so the badges line up from one candidate to the next.
    marks: tuple[MarkView, ...] = ()

    @property
    def label(self) -> str:
        """SKU and name as plain text (the template escapes it), for the button that
        accepts this part: the reviewer reads what one keypress will do."""
        return short(f"{self.sku} — {''.join(s.text for s in self.name)}", 90)


@dataclass(frozen=True)
class QueueRow:
    id: str
    text: str
    top_sku: str
    top_name: str
    confidence: float | None
    priority: float
    created_at: float


def when(timestamp: float) -> str:
    if not timestamp:
        return "—"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def short(text: str, limit: int = QUEUE_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def queue_row(item: pb.ReviewItem) -> QueueRow:
    top = item.candidates[0] if item.candidates else None
    return QueueRow(
        id=item.id,
        text=item.text,
        top_sku=top.sku if top else "",
        top_name=top.name if top else "",
        confidence=top.confidence if top else None,
        priority=item.priority,
        created_at=item.created_at,
    )


def mark_views(candidate: pb.Candidate) -> tuple[MarkView, ...]:
    return tuple(
        MarkView(m.attribute, m.stated, m.value, m.agrees, m.explanation) for m in candidate.marks
    )


def stated_attributes(item: pb.ReviewItem) -> list[str]:
    """What the customer stated ("side: right"), once each, in the order the candidates' marks
    name it: every candidate is compared with the same statements, so their union is what the
    matcher read in the text and the vehicle."""
    found: dict[str, None] = {}
    for candidate in item.candidates:
        for mark in candidate.marks:
            found.setdefault(short(f"{mark.attribute}: {mark.stated}", MARK_CHARS), None)
    return list(found)


def candidate_views(
    item: pb.ReviewItem, part: Callable[[str], NamedPart | None], active: Callable[[str], bool]
) -> list[CandidateView]:
    wanted = set(terms(item.text))
    views = []
    for rank, candidate in enumerate(item.candidates, start=1):
        found = part(candidate.sku)
        aliases = list(found.aliases) if found is not None else []
        name = found.name if found is not None else candidate.name
        views.append(
            CandidateView(
                rank=rank,
                sku=candidate.sku,
                name=highlight(name, wanted),
                aliases=[highlight(a, wanted) for a in aliases],
                matched=matched_words(item.text, [name, *aliases]),
                confidence=candidate.confidence,
                signals=sorted(candidate.signals.items()),
                choosable=active(candidate.sku),
                marks=mark_views(candidate),
            )
        )
    return views


def default_candidate(candidates: list[CandidateView]) -> tuple[CandidateView | None, str]:
    """The candidate that `a` accepts, or None and why there is none.

    Only the model's top candidate, shown first on the page, may be the default; never a
    search result. It stops being one when anything about it is odd: a confidence that is not
    a probability (the model gives 0..1; 7.5, inf or NaN mean the item was tampered with),
    or another candidate ranked below it with a higher confidence (the stored order is not
    the model's). Then the reviewer must press a row's own Choose button: one keypress never
    resolves an item to a part whose place on the page was not earned."""
    if not candidates:
        return None, ""
    top = candidates[0]
    if not top.choosable:
        return None, f"the top candidate {top.sku} is retired"
    # Written so that NaN fails every comparison, and so refuses.
    if not 0.0 <= top.confidence <= 1.0:
        return None, f"the top candidate {top.sku} has an impossible confidence"
    if not all(c.confidence <= top.confidence for c in candidates[1:]):
        return None, "the candidates are not in the model's order"
    return top, ""


def search_views(item: pb.ReviewItem, parts: list[NamedPart]) -> list[CandidateView]:
    wanted = set(terms(item.text))
    return [
        CandidateView(
            rank=rank,
            sku=p.sku,
            name=highlight(p.name, wanted),
            aliases=[highlight(a, wanted) for a in p.aliases],
            matched=matched_words(item.text, [p.name, *p.aliases]),
            confidence=0.0,
            signals=[],
            choosable=True,
        )
        for rank, p in enumerate(parts, start=1)
    ]
