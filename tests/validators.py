"""Check generated objects against what Istio and Kubernetes wrote (DESIGN.md section 7).

Istio custom resources go through `cloudcoil-models-istio` (models generated from
Istio's CRD schemas). Those models drop unknown fields instead of refusing them, so
a manifest passes only if it survives a round trip unchanged. Core objects go
through `kubernetes-validate` in strict mode.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
from cloudcoil.models.istio.networking import v1 as networking
from cloudcoil.models.istio.security import v1 as security

KUBERNETES_VERSION = "1.33"
_ISTIO_MODELS = {
    ("networking.istio.io/v1", "Gateway"): networking.Gateway,
    ("networking.istio.io/v1", "VirtualService"): networking.VirtualService,
    ("networking.istio.io/v1", "ServiceEntry"): networking.ServiceEntry,
    ("networking.istio.io/v1", "DestinationRule"): networking.DestinationRule,
    ("security.istio.io/v1", "PeerAuthentication"): security.PeerAuthentication,
}


def validate_istio(manifest: dict[str, Any]) -> None:
    """Raise AssertionError unless `manifest` is a valid Istio resource with no unknown field."""
    model = _ISTIO_MODELS[(manifest["apiVersion"], manifest["kind"])]
    parsed = model.model_validate(manifest)  # raises on wrong types and enum values
    round_trip = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert round_trip == manifest, f"fields unknown to Istio's schema in {manifest['kind']}: {manifest}"


def validate_core(obj: dict[str, Any]) -> None:
    """Raise unless `obj` is a valid Kubernetes object (strict: no unknown fields)."""
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
