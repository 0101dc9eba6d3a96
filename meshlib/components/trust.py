"""`MeshTrust`: one root CA for the mesh and an intermediate CA per cluster.

Every cluster's `cacerts` Secret carries the same `root-cert.pem`, so that workloads
in different clusters accept each other's certificates (cross-cluster mTLS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_tls as tls

from meshlib.plan.credentials import CertificateProfile, cacerts_data, intermediate_profile, root_profile

__all__ = ["MeshTrust", "MeshTrustArgs"]

_KEY_ALGORITHM = "RSA"
_KEY_BITS = 4096  # what Istio's tools/certs use for both the root and the intermediates


@dataclass
class MeshTrustArgs:
    """Inputs of `MeshTrust`."""

    clusters: Sequence[str]
    """Cluster names; each gets an intermediate CA (`O=Istio, CN=Intermediate CA, L=<cluster>`)."""
    root_certificate_pem: pulumi.Input[str] | None = None
    """Bring your own root: its certificate PEM (with `root_private_key_pem`)."""
    root_private_key_pem: pulumi.Input[str] | None = None
    """Bring your own root: its private key PEM (kept secret)."""
    protect: bool = False
    """Pulumi `protect` on a generated root key and certificate: replacing them breaks trust mesh-wide."""


class MeshTrust(pulumi.ComponentResource):
    """The mesh's root of trust and per-cluster intermediates, all key material secret.

    ```python
    trust = MeshTrust("mesh1-trust", MeshTrustArgs(clusters=["east", "central"]))
    trust.cacerts("east")  # -> the four keys of the `cacerts` Secret
    ```
    """

    root_certificate: pulumi.Output[str]
    """The root certificate PEM (public; every cluster's `root-cert.pem`)."""

    def __init__(self, name: str, args: MeshTrustArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:MeshTrust", name, None, opts)
        if (args.root_certificate_pem is None) != (args.root_private_key_pem is None):
            raise pulumi.RunError("MeshTrust: give both root_certificate_pem and root_private_key_pem, or neither")
        child = pulumi.ResourceOptions(parent=self)
        protected = pulumi.ResourceOptions(parent=self, protect=args.protect)
        self.expiry: dict[str, pulumi.Output[str]] = {}
        """Per certificate (`root` when generated, then each cluster): its `validity_end_time` (RFC 3339)."""
        root_key_pem: pulumi.Output[str]
        if args.root_certificate_pem is not None and args.root_private_key_pem is not None:
            self.root_certificate = pulumi.Output.from_input(args.root_certificate_pem)
            root_key_pem = pulumi.Output.secret(args.root_private_key_pem)
        else:
            root_key = _private_key(f"{name}-root-key", protected)
            root = tls.SelfSignedCert(
                f"{name}-root-cert",
                private_key_pem=root_key.private_key_pem,
                subject=_subject(root_profile()),
                validity_period_hours=root_profile().validity_hours,
                is_ca_certificate=True,
                allowed_uses=list(root_profile().allowed_uses),
                opts=protected,
            )
            self.root_certificate = root.cert_pem
            self.expiry["root"] = root.validity_end_time
            root_key_pem = pulumi.Output.secret(root_key.private_key_pem)

        self._cacerts: dict[str, dict[str, pulumi.Output[str]]] = {}
        for cluster in args.clusters:
            profile = intermediate_profile(cluster)
            key = _private_key(f"{name}-{cluster}-key", child)
            request = tls.CertRequest(
                f"{name}-{cluster}-csr",
                private_key_pem=key.private_key_pem,
                subject=_subject(profile),
                dns_names=list(profile.dns_names),
                opts=child,
            )
            cert = tls.LocallySignedCert(
                f"{name}-{cluster}-cert",
                cert_request_pem=request.cert_request_pem,
                ca_private_key_pem=root_key_pem,
                ca_cert_pem=self.root_certificate,
                validity_period_hours=profile.validity_hours,
                is_ca_certificate=True,
                max_path_length=profile.max_path_length,
                allowed_uses=list(profile.allowed_uses),
                early_renewal_hours=profile.early_renewal_hours,
                opts=child,
            )
            self.expiry[cluster] = cert.validity_end_time
            data = pulumi.Output.all(cert.cert_pem, key.private_key_pem, self.root_certificate).apply(
                lambda pems: cacerts_data(pems[0], pems[1], pems[2])
            )
            self._cacerts[cluster] = {
                item: pulumi.Output.secret(data.apply(lambda found, item=item: found[item]))  # type: ignore[misc]
                for item in ("ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem")
            }
        self.register_outputs({"rootCertificate": self.root_certificate, "expiry": self.expiry})

    def cacerts(self, cluster: str) -> dict[str, pulumi.Output[str]]:
        """`stringData` of cluster's `cacerts` Secret (all values secret)."""
        return self._cacerts[cluster]


def _private_key(name: str, opts: pulumi.ResourceOptions) -> tls.PrivateKey:
    return tls.PrivateKey(
        name,
        algorithm=_KEY_ALGORITHM,
        rsa_bits=_KEY_BITS,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["privateKeyPem"])),
    )


def _subject(profile: CertificateProfile) -> Any:  # the same TypedDict for both resources
    subject = {"organization": profile.organization, "common_name": profile.common_name}
    if profile.locality:
        subject["locality"] = profile.locality
    return subject
