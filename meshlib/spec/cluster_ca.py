"""The material `mesh:clusterCas` points at, checked before any resource registers.

Each cluster's CA comes from your PKI, so meshlib never holds the root's key. Before it
installs one, the CA must be able to sign workload certificates, its key must match it,
it must chain through the given intermediates to the root, everything must be valid now,
and every cluster must end at the same root. Pure functions over PEM text: the
`cryptography` package parses and verifies. No message quotes any part of a key or
certificate: they name the config key, what is wrong, and dates.

```python
check_cluster_ca(cert_pem, key_pem, chain_pem, root_pem)  # -> [] when istiod can use it
```
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
from pydantic import ValidationError

from meshlib.spec.models import ClusterCaSpec
from meshlib.spec.problems import Problem, key_path

__all__ = ["PLACEHOLDER_MARK", "CaProblem", "check_cluster_ca", "cluster_ca_problems"]

PLACEHOLDER_MARK = "-----BEGIN PLACEHOLDER-----"
"""How an offline plan's stand-in for a config value it cannot read begins: such entries are not checked."""


@dataclass(frozen=True, order=True)
class CaProblem:
    """One thing wrong with a cluster's CA material."""

    field: str
    """The entry's key at fault: `certificate`, `privateKey`, `chain` or `root`."""
    message: str


def check_cluster_ca(
    certificate: str, private_key: str, chain: str | None, root: str, now: datetime | None = None
) -> list[CaProblem]:
    """Why istiod could not sign with this CA, or `[]`.

    `certificate` is the cluster's CA certificate, `private_key` its key, `chain` the
    intermediates above it (its issuer first, the root left out; None when the root issued
    it), `root` the root certificate. `now` defaults to the current time.
    """
    now = now or datetime.now(UTC)
    problems: list[CaProblem] = []
    cert = _single(certificate, "certificate", problems)
    key = _private_key(private_key, problems)
    issuers = _certificates(chain, "chain", problems) if chain is not None else []
    anchor = _single(root, "root", problems)

    if cert is not None:
        problems += [CaProblem("certificate", m) for m in _ca_problems(cert, now)]
        if key is not None and _spki(key.public_key()) != _spki(cert.public_key()):
            problems.append(CaProblem("privateKey", "does not belong to the certificate (their public keys differ)"))
    for position, issuer in enumerate(issuers or [], start=1):
        problems += [CaProblem("chain", f"certificate {position} of the chain {m}") for m in _ca_problems(issuer, now)]
    if anchor is not None:
        problems += [CaProblem("root", m) for m in _ca_problems(anchor, now, strict=False)]
        if not _issued(anchor, anchor):
            problems.append(
                CaProblem(
                    "root",
                    "is not self-signed: give the root of your PKI here, and the intermediates between it and "
                    "the cluster's CA in `chain`",
                )
            )
    if issuers and issuers[-1] == anchor:
        problems.append(CaProblem("chain", "ends with the root: leave the root out of `chain` (it goes in `root`)"))
    elif cert is not None and issuers is not None and anchor is not None:
        problems += _path_problems([cert, *issuers, anchor])
    return sorted(problems)


def cluster_ca_problems(raw: Mapping[str, Any], secret: Collection[str], now: datetime | None = None) -> list[Problem]:
    """Problems with the material of every `mesh:clusterCas` entry, keyed as in the config.

    `raw` holds the `mesh:*` values (keys without the prefix), `secret` the full names of
    the config keys Pulumi stores encrypted. Entries that do not parse, keys that are not
    set, and offline plans' placeholders are left to the spec's own checks.
    """
    entries = raw.get("clusterCas")
    if not isinstance(entries, Mapping):
        return []
    problems: list[Problem] = []
    roots: dict[str, bytes] = {}
    for cluster, entry in entries.items():
        try:
            ca = ClusterCaSpec.model_validate(entry)
        except ValidationError:
            continue
        names = {"certificate": ca.certificate, "privateKey": ca.private_key, "chain": ca.chain, "root": ca.root}
        values = {field: raw.get(name) for field, name in names.items() if name is not None}
        at = {field: key_path(("clusterCas", str(cluster), field)) for field in names}
        if any(value is None or (isinstance(value, str) and PLACEHOLDER_MARK in value) for value in values.values()):
            continue
        texts = {field: value for field, value in values.items() if isinstance(value, str)}
        problems += [
            Problem(at[field], f"config key mesh:{names[field]} does not hold PEM text")
            for field in values
            if field not in texts
        ]
        if len(texts) != len(values):
            continue
        if f"mesh:{ca.private_key}" not in secret:
            problems.append(
                Problem(
                    at["privateKey"],
                    f"config key mesh:{ca.private_key} is stored in plain text: store it encrypted "
                    f"(`pulumi config set --secret mesh:{ca.private_key} < ca-key.pem`)",
                )
            )
        found = check_cluster_ca(texts["certificate"], texts["privateKey"], texts.get("chain"), texts["root"], now)
        problems += [Problem(at[p.field], p.message) for p in found]
        anchor = _parsed(texts["root"])
        if anchor is not None and len(anchor) == 1:
            roots[str(cluster)] = anchor[0].public_bytes(Encoding.DER)
    problems += _different_roots(roots)
    return sorted(set(problems))


def _different_roots(roots: dict[str, bytes]) -> list[Problem]:
    """Clusters whose root differs from the one most clusters share (the first one on a tie)."""
    if len(set(roots.values())) < 2:
        return []
    common = Counter(roots.values()).most_common(1)[0][0]
    holder = next(cluster for cluster, root in roots.items() if root == common)
    return [
        Problem(
            key_path(("clusterCas", cluster, "root")),
            f"is not the root of cluster {holder!r} (mesh:clusterCas.{holder}.root): every cluster must chain to "
            "one root, or workloads in different clusters reject each other's certificates",
        )
        for cluster, root in roots.items()
        if root != common
    ]


def _parsed(text: str) -> list[x509.Certificate] | None:
    try:
        return x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        return None


def _certificates(text: str, field: str, problems: list[CaProblem]) -> list[x509.Certificate] | None:
    found = _parsed(text)
    if found is None:
        problems.append(CaProblem(field, "is not PEM certificates (`-----BEGIN CERTIFICATE-----` blocks)"))
    return found


def _single(text: str, field: str, problems: list[CaProblem]) -> x509.Certificate | None:
    found = _certificates(text, field, problems)
    if found is None:
        return None
    if len(found) != 1:
        hint = "its issuers go in `chain`" if field == "certificate" else "give the root certificate alone"
        problems.append(CaProblem(field, f"holds {len(found)} certificates instead of one: {hint}"))
        return None
    return found[0]


def _private_key(text: str, problems: list[CaProblem]) -> Any:
    try:
        return load_pem_private_key(text.encode(), password=None)
    except TypeError:
        problems.append(CaProblem("privateKey", "is encrypted: istiod reads the key unencrypted from `cacerts`"))
    except (ValueError, UnsupportedAlgorithm):
        problems.append(CaProblem("privateKey", "is not a PEM private key (`-----BEGIN ... PRIVATE KEY-----`)"))
    return None


def _spki(public_key: Any) -> bytes:
    return bytes(public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def _ca_problems(cert: x509.Certificate, now: datetime, strict: bool = True) -> list[str]:
    """Why `cert` cannot sign certificates now. A root (`strict=False`) may lack the extensions."""
    problems = []
    constraints = _extension(cert, x509.BasicConstraints)
    if (constraints is None and strict) or (constraints is not None and not constraints.ca):
        problems.append("is not a CA certificate (basicConstraints CA:true)")
    usage = _extension(cert, x509.KeyUsage)
    if (usage is None and strict) or (usage is not None and not usage.key_cert_sign):
        problems.append("may not sign certificates (keyUsage keyCertSign)")
    if now < cert.not_valid_before_utc:
        problems.append(f"is not valid before {_date(cert.not_valid_before_utc)}")
    if now > cert.not_valid_after_utc:
        problems.append(f"expired on {_date(cert.not_valid_after_utc)}")
    return problems


def _path_problems(path: list[x509.Certificate]) -> list[CaProblem]:
    """Breaks and path-length limits along `path`: the cluster's CA, its issuers, then the root."""
    problems = []
    fields = ["certificate", *["chain"] * (len(path) - 2), "root"]
    for index in range(1, len(path)):
        child, issuer = ("the cluster's CA" if index == 1 else f"certificate {index - 1} of the chain"), path[index]
        name = "the root" if index == len(path) - 1 else f"certificate {index} of the chain"
        if not _issued(path[index - 1], issuer):
            hint = " (another root, or intermediates missing from `chain`)" if index == len(path) - 1 else ""
            problems.append(CaProblem(fields[index], f"{name} did not issue {child}{hint}"))
        constraints = _extension(issuer, x509.BasicConstraints)
        if constraints is not None and constraints.path_length is not None and constraints.path_length < index:
            problems.append(
                CaProblem(
                    fields[index],
                    f"{name} allows {constraints.path_length} CA certificate(s) below it (pathlen), but {index} "
                    "follow it down to the cluster's CA, which signs workload certificates",
                )
            )
    return problems


def _issued(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _extension(cert: x509.Certificate, kind: type[Any]) -> Any:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
