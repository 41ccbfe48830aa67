"""`partmatch console`: the staff review console."""

from __future__ import annotations

import argparse

from matcher.config import Settings


def cmd_console(args: argparse.Namespace) -> int:
    from console.server import run_console

    settings = Settings.from_env(console_address=args.listen)
    run_console(settings, server=args.server or "")
    return 0
