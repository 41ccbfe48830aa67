"""The `partmatch` command line: above every other package (matcher, indexer, eval, console).

`main.py` builds the parser and dispatches; the commands live in one module per subject:
`catalog` (sample data, indexing), `evaluation`, `serving` (serve, match, reload), `models`
(train, the registry) and `review` (the staff console). Heavy modules are imported inside the
command functions, so `partmatch --help` starts fast.
"""
