"""`python -m cli ...`: the `partmatch` command without its console script."""

from cli.main import main

raise SystemExit(main())
