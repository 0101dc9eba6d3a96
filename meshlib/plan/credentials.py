"""Credentials the mesh hands around: the shared CA chain and istiod's remote secrets.

What `istioctl create-remote-secret` and Istio's `tools/certs` Makefiles produce,
as pure data: names, labels, certificate properties, the bearer-token kubeconfig.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import yaml

from meshlib.plan.reader import READER, reader_token_name
from meshlib.spec.models import MeshSpec

__all__ = [
    "CACERTS_SECRET",
    "CertificateProfile",
    "cacerts_data",
    "certificate_lifetimes",
    "decode_token",
    "exec_kubeconfig",
    "intermediate_profile",
    "reader_token_metadata",
    "remote_secret_kubeconfig",
    "remote_secret_metadata",
    "root_profile",
]

CACERTS_SECRET = "cacerts"
_NAMESPACE = "istio-system"


@dataclass(frozen=True)
class CertificateProfile:
    """Subject and extensions of a CA certificate."""

    organization: str
    common_name: str
    locality: str | None
    validity_hours: int
    allowed_uses: tuple[str, ...]
    max_path_length: int
    dns_names: tuple[str, ...]
    early_renewal_hours: int = 0
    """Renewed (a new key and certificate, replaced in `cacerts`) by the first `pulumi up` this close to expiry."""


def root_profile() -> CertificateProfile:
    """The mesh root: `O=Istio, CN=Root CA`, ten years, signs intermediates.

    Never renewed automatically: a new root breaks trust between workloads until every
    cluster trusts both (docs/trust.md gives the rotation procedure).
    """
    return CertificateProfile(
        organization="Istio",
        common_name="Root CA",
        locality=None,
        validity_hours=10 * 365 * 24,
        allowed_uses=("cert_signing", "crl_signing", "digital_signature", "key_encipherment"),
        max_path_length=-1,
        dns_names=(),
    )


def intermediate_profile(cluster: str) -> CertificateProfile:
    """A cluster's intermediate, as Istio's tooling makes it (`CA:true, pathlen:0`, two years).

    Renewed by any `pulumi up` in its last 90 days; istiod reloads a changed `cacerts`
    by itself (Istio >= 1.19), and workload certificates (24 hours) follow within a day.
    """
    return CertificateProfile(
        organization="Istio",
        common_name="Intermediate CA",
        locality=cluster,
        validity_hours=2 * 365 * 24,
        allowed_uses=("digital_signature", "content_commitment", "key_encipherment", "cert_signing"),
        max_path_length=0,
        dns_names=(f"istiod.{_NAMESPACE}.svc",),
        early_renewal_hours=90 * 24,
    )


def certificate_lifetimes(spec: MeshSpec) -> dict[str, str]:
    """What the plan says of each CA certificate: its lifetime and when it renews."""
    clusters = [cluster.name for cluster in spec.clusters]
    if spec.cluster_cas:
        issued = "issued by your PKI (mesh:clusterCas): its own expiry, renewed by you"
        return {"root": "yours, kept offline (mesh:clusterCas)", **dict.fromkeys(clusters, issued)}
    root = root_profile()
    lifetimes = {
        "root": f"{root.validity_hours // 24} days from creation, renewed by hand (docs/trust.md)"
        if spec.root_ca is None
        else "yours (mesh:rootCa): its own expiry"
    }
    for cluster in clusters:
        profile = intermediate_profile(cluster)
        lifetimes[cluster] = (
            f"{profile.validity_hours // 24} days from creation, renewed by the first `pulumi up` in its last "
            f"{profile.early_renewal_hours // 24} days"
        )
    return lifetimes


def cacerts_data(ca_cert: str, ca_key: str, root_cert: str) -> dict[str, str]:
    """The `cacerts` Secret's keys: the intermediate, its key, the root, and the chain."""
    return {
        "ca-cert.pem": ca_cert,
        "ca-key.pem": ca_key,
        "root-cert.pem": root_cert,
        "cert-chain.pem": ca_cert + root_cert,
    }


def reader_token_metadata(watcher: str, generation: int = 0) -> dict[str, Any]:
    """A long-lived token Secret of meshlib's reader account (`meshlib.plan.reader`), one per watcher.

    Each primary that watches the cluster gets a token of its own, so that removing one
    watcher revokes its access only, and no two resources manage one Secret. A new
    `generation` names a new Secret: a new token, and the old one deleted (revoked).
    """
    return {
        "name": reader_token_name(watcher, generation),
        "namespace": _NAMESPACE,
        "annotations": {"kubernetes.io/service-account.name": READER},
    }


def remote_secret_metadata(cluster: str) -> dict[str, Any]:
    """`istio-remote-secret-<cluster>`, labelled and annotated for istiod to pick up."""
    return {
        "name": f"istio-remote-secret-{cluster}",
        "namespace": _NAMESPACE,
        "labels": {"istio/multiCluster": "true"},
        "annotations": {"networking.istio.io/cluster": cluster},
    }


def remote_secret_kubeconfig(cluster: str, server: str, ca_data: str, token: str) -> str:
    """The kubeconfig istiod uses to watch `cluster`: a bearer token, never an exec plugin.

    `ca_data` is the cluster CA, base64-encoded PEM (as EKS and GKE report it);
    `token` is the decoded reader token.
    """
    return _kubeconfig(cluster, server, ca_data, {"token": token})


def decode_token(encoded: str) -> str:
    """A service-account token Secret's `data.token`, base64-decoded."""
    return base64.b64decode(encoded).decode()


def exec_kubeconfig(
    cluster: str, server: str, ca_data: str, command: str, args: list[str], env: dict[str, str] | None = None
) -> str:
    """A kubeconfig for Pulumi's own Kubernetes provider: an exec plugin, no stored token.

    `command`/`args` fetch a short-lived token (`aws eks get-token`, `gke-gcloud-auth-plugin`),
    with `env` set for it (e.g. the service account to impersonate).
    """
    plugin: dict[str, Any] = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": command,
        "args": args,
        "interactiveMode": "Never",
        "provideClusterInfo": True,
    }
    if env:
        plugin["env"] = [{"name": key, "value": value} for key, value in sorted(env.items())]
    return _kubeconfig(cluster, server, ca_data, {"exec": plugin})


def _kubeconfig(cluster: str, server: str, ca_data: str, user: dict[str, Any]) -> str:
    """One cluster, context and user, all named `cluster`."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
        "current-context": cluster,
        "preferences": {},
        "users": [{"name": cluster, "user": user}],
    }
    return yaml.safe_dump(config, sort_keys=False)
