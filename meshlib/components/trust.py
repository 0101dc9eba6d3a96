"""`MeshTrust`: one root CA for the mesh and an intermediate CA per cluster.

Every cluster's `cacerts` Secret carries the same `root-cert.pem`, so that workloads
in different clusters accept each other's certificates (cross-cluster mTLS). With CAs
your PKI issued (`cluster_cas`), it creates no key or certificate and only lays them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_tls as tls

from meshlib.plan.cluster_cas import given_cacerts, not_after, trimmed_pem
from meshlib.plan.credentials import CertificateProfile, cacerts_data, intermediate_profile, root_profile

__all__ = ["ClusterCa", "MeshTrust", "MeshTrustArgs"]

_CACERTS_KEYS = ("ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem")

_KEY_ALGORITHM = "RSA"
_KEY_BITS = 4096  # what Istio's tools/certs use for both the root and the intermediates


@dataclass
class ClusterCa:
    """A cluster's CA issued by your PKI, as PEMs (`meshlib.load_spec` checks them for `mesh:clusterCas`)."""

    certificate_pem: pulumi.Input[str]
    """The cluster's CA certificate (`ca-cert.pem`)."""
    private_key_pem: pulumi.Input[str]
    """Its private key (`ca-key.pem`), kept secret."""
    root_certificate_pem: pulumi.Input[str]
    """The root (`root-cert.pem`), the same for every cluster."""
    chain_pem: pulumi.Input[str] | None = None
    """The intermediates between the CA and the root, its issuer first; None when the root issued it."""


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
    cluster_cas: Mapping[str, ClusterCa] | None = None
    """Keep the root offline: each cluster's CA from your PKI, by cluster (then no key or certificate is created)."""


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
        self._cacerts: dict[str, dict[str, pulumi.Output[str]]] = {}
        if args.cluster_cas is not None:
            self._lay_out(args, args.cluster_cas)
            self.register_outputs({"rootCertificate": self.root_certificate, "expiry": self.expiry})
            return
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
            laid_out: pulumi.Output[dict[str, str]] = pulumi.Output.all(
                cert.cert_pem, key.private_key_pem, self.root_certificate
            ).apply(lambda pems: cacerts_data(pems[0], pems[1], pems[2]))
            data: pulumi.Output[dict[str, str]] = pulumi.Output.secret(laid_out)
            # Each item an apply of the secret `data`: secret too, without an `Output.secret` per item.
            self._cacerts[cluster] = {
                item: data.apply(lambda found, item=item: found[item])  # type: ignore[misc]
                for item in _CACERTS_KEYS
            }
        self.register_outputs({"rootCertificate": self.root_certificate, "expiry": self.expiry})

    def _lay_out(self, args: MeshTrustArgs, given: Mapping[str, ClusterCa]) -> None:
        """Each cluster's `cacerts` from the CA your PKI issued it: no resource, every value secret."""
        missing = [cluster for cluster in args.clusters if cluster not in given]
        if missing or not given or args.root_certificate_pem is not None or args.root_private_key_pem is not None:
            raise pulumi.RunError(
                "MeshTrust: give cluster_cas for every cluster (missing: "
                f"{', '.join(missing) or 'none'}), and no root certificate or key with them"
            )
        for cluster in args.clusters:
            ca = given[cluster]
            data = pulumi.Output.all(ca.certificate_pem, ca.private_key_pem, ca.chain_pem, ca.root_certificate_pem)
            laid_out = data.apply(lambda pems: given_cacerts(pems[0], pems[1], pems[2], pems[3]))
            self._cacerts[cluster] = {
                item: pulumi.Output.secret(laid_out.apply(lambda found, item=item: found[item]))  # type: ignore[misc]
                for item in _CACERTS_KEYS
            }
            self.expiry[cluster] = pulumi.Output.from_input(ca.certificate_pem).apply(
                lambda pem: not_after(pem) or "unknown"
            )
        first = given[args.clusters[0]] if args.clusters else next(iter(given.values()))
        self.root_certificate = pulumi.Output.from_input(first.root_certificate_pem).apply(trimmed_pem)

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
