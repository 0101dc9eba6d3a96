"""Fake computed outputs: pulumi-tls (PEM-shaped, derived from the resource name)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def pem(kind: str, name: str) -> str:
    """A PEM-shaped fake whose body names the resource that made it."""
    return f"-----BEGIN {kind}-----\n{name}\n-----END {kind}-----\n"


OUTPUTS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "tls:index/privateKey:PrivateKey": lambda name, _: {"privateKeyPem": pem("RSA PRIVATE KEY", name)},
    "tls:index/selfSignedCert:SelfSignedCert": lambda name, _: {"certPem": pem("CERTIFICATE", name)},
    "tls:index/certRequest:CertRequest": lambda name, _: {"certRequestPem": pem("CERTIFICATE REQUEST", name)},
    "tls:index/locallySignedCert:LocallySignedCert": lambda name, _: {"certPem": pem("CERTIFICATE", name)},
}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
