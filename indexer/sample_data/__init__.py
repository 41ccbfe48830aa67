"""Seeded generator for partmatch's sample data: a car-parts catalog and customer texts.

The catalog is about 300 parts in the project's documented ``catalog.jsonl``
format.  ``history.csv`` (training), ``valid.csv`` and ``test.csv`` hold texts
as customers type them, labelled with the SKU they ask for (empty when the text
names no part).

The evaluation splits are meant to be honest: wrapper templates, vehicle
phrasings, lay descriptions, one regional alias per part kind, some
abbreviations and some misspelling patterns are held out of history and used
only in valid/test; a handful of "cold" parts never occur in history; and any
valid/test text that is a near-copy of a history text with the same label is
regenerated.  Everything is driven by ``random.Random`` instances seeded with
strings, so a seed always yields byte-identical files.

The modules, from the tables up: `vehicles` and `kinds` (what the catalog is made of),
`part_numbers` and `catalog` (the catalog generator), `vocabulary` and `texts` (how
customers word their texts), `novelty` (near-copy checks) and `splits` (the splits and the
files).  Run ``python -m indexer.sample_data --out data/sample`` to write the files.
"""

from indexer.sample_data.catalog import DEFAULT_SEED, build_catalog, catalog_jsonl
from indexer.sample_data.splits import DEFAULT_HISTORY_SIZE, write_sample_dataset

# The CLI (`main`) lives in __main__ and is not imported here: `python -m` would then find
# it already imported and warn that it may behave unpredictably.
__all__ = [
    "DEFAULT_HISTORY_SIZE",
    "DEFAULT_SEED",
    "build_catalog",
    "catalog_jsonl",
    "write_sample_dataset",
]
