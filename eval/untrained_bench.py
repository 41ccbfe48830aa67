"""The untrained service next to its signals: base encoder, no classifier head, the simple
weighted fusion (what the service answers before any `partmatch train`), and the code signal
alone, on a split of a data directory.

    python -m eval.untrained_bench --data data/sample [--split test]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from indexer.dataset import Dataset, load_dataset
from indexer.offline import offline_settings
from matcher.app import build_matcher
from matcher.config import Settings
from matcher.decision import Decision
from matcher.engine import Matcher
from matcher.query import Query
from matcher.signals.codes import CodeSignal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("data/sample"))
    parser.add_argument("--split", default="test", choices=["valid", "test"])
    args = parser.parse_args(argv)
    dataset = load_dataset(args.data)
    with offline_settings(Settings.from_env()) as settings:
        matcher = build_matcher(settings, dataset.catalog, dataset.history)
        return _report(args, dataset, matcher)


def _report(args: argparse.Namespace, dataset: Dataset, matcher: Matcher) -> int:
    codes = next(s for s in matcher.signals if isinstance(s, CodeSignal))
    examples = dataset.split(args.split)
    fused = code_right = code_answers = 0
    for example in examples:
        result = matcher.match(example.text, 1)
        said_nomatch = result.decision is Decision.NO_MATCH or not result.candidates
        fused += (None if said_nomatch else result.candidates[0].sku) == example.sku
        hits = codes.search(matcher.view, Query.parse(example.text), 1)
        code_answers += bool(hits)
        code_right += bool(hits) and hits[0].sku == example.sku
    n = len(examples)
    print(f"{args.data} {args.split}: {n} texts")
    print(f"weighted fusion, untrained: acc@1 {fused / n:.4f}")
    print(
        f"code signal alone: acc@1 {code_right / n:.4f} "
        f"(answers {code_answers}, right {code_right})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
