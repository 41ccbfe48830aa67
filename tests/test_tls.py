"""gRPC over TLS and mutual TLS, with a certificate authority made for the test."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.channel import open_channel
from matcher.config import ConfigError, Settings
from matcher.encoder import Encoder
from tests.serving import code_and_details, serving


@dataclasses.dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


class Authority:
    """A self-signed CA that issues server and client certificates into a folder."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.name = subject
        self.cert = (
            self._builder(subject, self.key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.path = folder / f"{name}.pem"
        self.path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def _builder(
        self, subject: x509.Name, public_key: ec.EllipticCurvePublicKey
    ) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(getattr(self, "name", subject))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    def issue(self, name: str) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            self._builder(subject, key.public_key())
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        issued = Issued(self.folder / f"{name}.crt", self.folder / f"{name}.key")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return issued


def client(tmp_path: Path, **tls: str) -> Settings:
    return Settings.from_env(env={}, state_dir=tmp_path / "client", **tls)


def match(channel: grpc.Channel) -> str:
    answer = pb_grpc.MatcherStub(channel).Match(pb.MatchRequest(text="alternator"), timeout=30)
    return str(answer.candidates[0].sku)


def test_tls_serves_trusting_clients_and_refuses_plaintext(
    tmp_path: Path, encoder: Encoder
) -> None:
    ca = Authority(tmp_path, "ca")
    server_cert = ca.issue("server")
    stranger = Authority(tmp_path, "stranger")
    with serving(
        tmp_path, encoder, tls_cert=str(server_cert.cert), tls_key=str(server_cert.key)
    ) as server:
        with open_channel(server.address, client(tmp_path, server_ca=str(ca.path))) as channel:
            assert match(channel) == "ALT"
        with grpc.insecure_channel(server.address) as plaintext:
            code, _ = code_and_details(lambda: match(plaintext))
            assert code == grpc.StatusCode.UNAVAILABLE
        # A client that does not trust the server's CA does not talk to it.
        with open_channel(server.address, client(tmp_path, server_ca=str(stranger.path))) as other:
            code, _ = code_and_details(lambda: match(other))
            assert code == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_refuses_clients_without_a_certificate_of_its_ca(
    tmp_path: Path, encoder: Encoder
) -> None:
    ca = Authority(tmp_path, "ca")
    server_cert = ca.issue("server")
    storefront = ca.issue("storefront")
    impostor = Authority(tmp_path, "impostor").issue("storefront-impostor")
    with serving(
        tmp_path,
        encoder,
        tls_cert=str(server_cert.cert),
        tls_key=str(server_cert.key),
        tls_client_ca=str(ca.path),
    ) as server:
        trusted = client(
            tmp_path,
            server_ca=str(ca.path),
            client_cert=str(storefront.cert),
            client_key=str(storefront.key),
        )
        with open_channel(server.address, trusted) as channel:
            assert match(channel) == "ALT"
        for settings in (
            client(tmp_path, server_ca=str(ca.path)),
            client(
                tmp_path,
                server_ca=str(ca.path),
                client_cert=str(impostor.cert),
                client_key=str(impostor.key),
            ),
        ):
            with open_channel(server.address, settings) as channel:
                code, _ = code_and_details(lambda: match(channel))
                assert code == grpc.StatusCode.UNAVAILABLE


def test_tls_settings_are_checked_at_start(tmp_path: Path) -> None:
    ca = Authority(tmp_path, "ca")
    issued = ca.issue("server")
    with pytest.raises(ConfigError, match="set both or neither"):
        Settings.from_env(env={"PARTMATCH_TLS_CERT": str(issued.cert)})
    with pytest.raises(ConfigError, match="PARTMATCH_TLS_KEY"):
        Settings.from_env(
            env={"PARTMATCH_TLS_CERT": str(issued.cert), "PARTMATCH_TLS_KEY": "/no/such.key"}
        )
    with pytest.raises(ConfigError, match="PARTMATCH_TLS_CLIENT_CA"):
        Settings.from_env(env={"PARTMATCH_TLS_CLIENT_CA": str(ca.path)})
