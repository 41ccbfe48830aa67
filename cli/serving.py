"""The online service: `partmatch serve`, `partmatch match` and `partmatch reload`."""

from __future__ import annotations

import argparse
import sys

from cli.common import settings_for
from matcher.config import Settings


def cmd_serve(args: argparse.Namespace) -> int:
    from matcher.server import serve

    serve(settings_for(args))
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from matcher.client import MatchClient, print_response

    settings = settings_for(args)
    if args.server:
        with MatchClient(args.server, settings) as client:
            for text in args.texts:
                print_response(text, client.match(text, args.top_k, args.vehicle))
        return 0
    from indexer.offline import offline_settings
    from matcher.app import build_current_matcher
    from matcher.catalog_store import SqliteCatalogStore
    from matcher.service import result_to_proto

    store = SqliteCatalogStore(settings.catalog_db, settings.sqlite_synchronous)
    # A one-off matcher in this process, with the model a server would load: it must not
    # rebuild a running server's indexes.
    with offline_settings(settings) as own:
        matcher = build_current_matcher(own, store.parts(), store.examples())
        for text in args.texts:
            print_response(text, result_to_proto(matcher.match(text, args.top_k, args.vehicle)))
        matcher.close()
    return 0


def cmd_reload(args: argparse.Namespace) -> int:
    import grpc
    from partmatch.v1 import partmatch_pb2 as pb
    from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

    from matcher.channel import open_channel, token_metadata

    settings = Settings.from_env()
    address = args.server or settings.grpc_address
    with open_channel(address, settings) as channel:
        try:
            response = pb_grpc.AdminStub(channel).ReloadModel(
                pb.ReloadModelRequest(version=args.version or ""),
                timeout=args.timeout,
                metadata=token_metadata(settings.client_token),
            )
        except grpc.RpcError as exc:
            code = exc.code().name
            print(f"partmatch: reload refused ({code}): {exc.details()}", file=sys.stderr)
            return 1
    print(f"{address} now serves {response.model_version} (was {response.previous_version})")
    return 0
