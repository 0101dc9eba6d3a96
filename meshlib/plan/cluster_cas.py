"""The `cacerts` of a cluster whose CA your PKI issued (`mesh:clusterCas`), in Istio's plugged-in CA layout.

meshlib creates no key or certificate then: it only lays out what it was given, checked
beforehand by `meshlib.spec.cluster_ca`.
"""

from __future__ import annotations

from cryptography import x509

__all__ = ["given_cacerts", "not_after", "trimmed_pem"]


def given_cacerts(certificate: str, private_key: str, chain: str | None, root: str) -> dict[str, str]:
    """The `cacerts` Secret's keys for a CA issued by your PKI.

    `ca-cert.pem` is the cluster's CA, `ca-key.pem` its key, `root-cert.pem` the root, and
    `cert-chain.pem` the CA followed by every intermediate above it (`chain`, its issuer
    first) and the root: what istiod sends along with each workload certificate so that a
    peer holding only the root can verify it. Each PEM ends with one newline, so that the
    concatenation stays parseable.
    """
    return {
        "ca-cert.pem": trimmed_pem(certificate),
        "ca-key.pem": trimmed_pem(private_key),
        "root-cert.pem": trimmed_pem(root),
        "cert-chain.pem": "".join(trimmed_pem(pem) for pem in (certificate, chain, root) if pem is not None),
    }


def not_after(certificate: str) -> str | None:
    """When a PEM certificate expires (RFC 3339, UTC), or None if `certificate` is not one."""
    try:
        expiry = x509.load_pem_x509_certificate(certificate.encode()).not_valid_after_utc
    except ValueError:
        return None
    return expiry.strftime("%Y-%m-%dT%H:%M:%SZ")


def trimmed_pem(text: str) -> str:
    """PEM text without surrounding blank space, ending with one newline (as `pulumi config set < file` may not)."""
    return text.strip() + "\n"
