"""What several commands share: settings from the command line and the `--state` options."""

from __future__ import annotations

import argparse
from pathlib import Path

from matcher.config import Settings


def settings_for(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        state_dir=getattr(args, "state", None),
        grpc_address=getattr(args, "address", None),
        model_path=getattr(args, "model", None),
    )


def add_state(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state",
        type=Path,
        help="state directory: catalog store, history, models "
        "(default: $PARTMATCH_STATE_DIR or var/state)",
    )
    parser.add_argument(
        "--model", help="local sentence-transformers model directory (default: all-MiniLM-L6-v2)"
    )
