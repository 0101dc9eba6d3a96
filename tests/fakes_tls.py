"""Fake computed outputs: pulumi-tls (PEM-shaped, derived from the resource name)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

ISSUED = datetime(2026, 1, 1, tzinfo=UTC)
"""When every fake certificate is issued: its `validityStartTime`."""


def pem(kind: str, name: str) -> str:
    """A PEM-shaped fake whose body names the resource that made it."""
    return f"-----BEGIN {kind}-----\n{name}\n-----END {kind}-----\n"


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _certificate(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """A certificate valid from `ISSUED` for its `validityPeriodHours`, as the provider reports it."""
    hours = int(inputs.get("validityPeriodHours") or 0)
    return {
        "certPem": pem("CERTIFICATE", name),
        "validityStartTime": _rfc3339(ISSUED),
        "validityEndTime": _rfc3339(ISSUED + timedelta(hours=hours)),
        "readyForRenewal": False,
    }


OUTPUTS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "tls:index/privateKey:PrivateKey": lambda name, _: {"privateKeyPem": pem("RSA PRIVATE KEY", name)},
    "tls:index/selfSignedCert:SelfSignedCert": _certificate,
    "tls:index/certRequest:CertRequest": lambda name, _: {"certRequestPem": pem("CERTIFICATE REQUEST", name)},
    "tls:index/locallySignedCert:LocallySignedCert": _certificate,
}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
