"""Rules across fields of a parsed `MeshSpec`: what a single field cannot know.

`check(spec)` returns every problem at once, so that the user fixes them in one go.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator

from pydantic.alias_generators import to_camel

from meshlib.spec.models import ClusterSpec, MeshSpec
from meshlib.spec.names import EksNames, GcpNetworkNames, GkeNames, name_prefix, too_long
from meshlib.spec.problems import Problem, key_path
from meshlib.spec.revision_rules import revision_problems

__all__ = ["admin_warnings", "check", "cidrs_of", "deployer_access", "network_of"]

_CLOUD_ONLY_FIELDS: dict[str, tuple[str, ...]] = {
    # field (python name, camelCase key) -> clouds that accept it
    "region": ("aws", "gcp"),
    "project": ("gcp",),
    "kubernetes_version": ("aws", "gcp"),
    "vpc_cidr": ("aws",),
    "vpc_id": ("aws",),
    "public_subnet_ids": ("aws",),
    "private_subnet_ids": ("aws",),
    "node_cidr": ("gcp",),
    "pod_cidr": ("gcp",),
    "service_cidr": ("aws", "gcp"),
    "master_cidr": ("gcp",),
    "kubeconfig": ("existing",),
    "east_west_address": ("existing",),
}
_PRIVATE_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def network_of(cluster: ClusterSpec) -> str:
    """The cluster's Istio network (its own name unless configured)."""
    return cluster.network or cluster.name


def cidrs_of(cluster: ClusterSpec) -> dict[str, ipaddress.IPv4Network]:
    """The cluster's configured address ranges, by camelCase field name."""
    ranges = {
        "vpcCidr": cluster.vpc_cidr,
        "nodeCidr": cluster.node_cidr,
        "podCidr": cluster.pod_cidr,
        "serviceCidr": cluster.service_cidr,
        "masterCidr": cluster.master_cidr,
    }
    return {key: value for key, value in ranges.items() if value is not None}


def check(spec: MeshSpec, stack: str | None = None) -> list[Problem]:
    """Every cross-field problem of `spec` (deployed as Pulumi stack `stack`), sorted by key."""
    from meshlib.plan.overrides import override_problems  # the charts' facts live in the plan layer

    problems = [
        *override_problems(spec),
        *_cluster_names(spec),
        *_adopted(spec),
        *_cloud_fields(spec),
        *_roles(spec),
        *_networks(spec),
        *_network_settings(spec),
        *_cidrs(spec),
        *_services(spec),
        *_failover(spec),
        *_cluster_cas(spec),
        *_cloud_names(spec, name_prefix(spec, stack)),
        *revision_problems(spec),
    ]
    return sorted(set(problems))


def deployer_access(spec: MeshSpec, built: Collection[str] = ()) -> list[Problem]:
    """Why Pulumi could not reach the API servers of the clusters it creates, if it could not.

    Those API servers admit only their watchers' egress IPs plus `mesh:adminCidrs`: with no
    admin CIDRs, the first Helm release fails after the clusters were built (15-20 minutes),
    unless Pulumi runs inside the clusters' networks (`mesh:pulumiInsideNetworks: true`).
    Clusters in `built` are the caller's own.
    """
    created = [c.name for c in spec.clusters if c.cloud in ("aws", "gcp") and c.name not in built]
    if spec.admin_cidrs or spec.pulumi_inside_networks or not created:
        return []
    return [
        Problem(
            _at("adminCidrs"),
            f"empty, so the API servers of {', '.join(created)} would admit only the istiods that watch them, "
            "and the first Helm release would fail after the clusters were built: admit where you and CI run "
            "Pulumi from (`pulumi config set --path 'mesh:adminCidrs[0]' 203.0.113.7/32`), or set "
            "`mesh:pulumiInsideNetworks: true` if Pulumi runs inside the clusters' networks",
        )
    ]


def admin_warnings(spec: MeshSpec) -> list[str]:
    """A warning when `mesh:adminCidrs` together admit the whole internet to every API server."""
    collapsed = list(ipaddress.collapse_addresses(spec.admin_cidrs))
    if sum(network.num_addresses for network in collapsed) < 2**32:
        return []
    return [
        "mesh:adminCidrs together cover the whole internet "
        f"({', '.join(str(c) for c in spec.admin_cidrs)}): every EKS and GKE API server is open to anyone; "
        "admit only the networks you and CI run Pulumi from"
    ]


def _at(*loc: str | int) -> str:
    return key_path(loc)


_RESERVED = re.compile(r"(^|-)watches(-|$)")
"""`<watcher>-watches-<watched>` names remote secrets: a cluster name with this word could make two meet."""


def _cluster_names(spec: MeshSpec) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, cluster in enumerate(spec.clusters):
        if _RESERVED.search(cluster.name):
            yield Problem(
                _at("clusters", index, "name"),
                "must not contain the word 'watches' (meshlib names remote secrets `<watcher>-watches-<watched>`)",
            )
        if cluster.name in seen:
            yield Problem(
                _at("clusters", index, "name"),
                f"duplicate cluster name {cluster.name!r} (already used by mesh:clusters[{seen[cluster.name]}])",
            )
        else:
            seen[cluster.name] = index


def _cloud_fields(spec: MeshSpec) -> Iterator[Problem]:
    for index, cluster in enumerate(spec.clusters):
        for field, clouds in _CLOUD_ONLY_FIELDS.items():
            value = getattr(cluster, field)
            if value not in (None, []) and cluster.cloud not in clouds:
                yield Problem(
                    _at("clusters", index, to_camel(field)),
                    f"not used with cloud {cluster.cloud!r} (only with {' or '.join(clouds)}): remove it",
                )
        if cluster.cloud in ("aws", "gcp") and not cluster.region:
            yield Problem(_at("clusters", index, "region"), f"required for cloud {cluster.cloud!r}")
        if cluster.cloud == "gcp" and not cluster.project:
            yield Problem(_at("clusters", index, "project"), "required for cloud 'gcp' (a GCP project id)")
        if cluster.cloud == "existing" and cluster.kubeconfig is None:
            yield Problem(
                _at("clusters", index, "kubeconfig"),
                "required for cloud 'existing': give `context` (and `path`) or `secret`",
            )
        if cluster.kubeconfig is not None and cluster.kubeconfig.path and cluster.kubeconfig.secret:
            yield Problem(_at("clusters", index, "kubeconfig"), "give either `path` or `secret`, not both")
        if cluster.vpc_id and (not cluster.public_subnet_ids or not cluster.private_subnet_ids):
            yield Problem(
                _at("clusters", index, "vpcId"),
                "an existing VPC needs `publicSubnetIds` and `privateSubnetIds` (one per zone, at least two)",
            )
        for field in ("public_subnet_ids", "private_subnet_ids"):
            ids = getattr(cluster, field)
            if ids and not cluster.vpc_id:
                yield Problem(_at("clusters", index, to_camel(field)), "only with `vpcId` (an existing VPC)")
            elif ids and len(ids) < 2:
                yield Problem(_at("clusters", index, to_camel(field)), "EKS needs subnets in at least two zones")
        if cluster.vpc_id and cluster.vpc_cidr:
            yield Problem(_at("clusters", index, "vpcCidr"), "give `vpcCidr` only for a VPC meshlib creates")
        if cluster.nodes.min > cluster.nodes.max:
            yield Problem(
                _at("clusters", index, "nodes", "min"),
                f"min ({cluster.nodes.min}) is larger than max ({cluster.nodes.max})",
            )


def _adopted(spec: MeshSpec) -> Iterator[Problem]:
    """Two clusters are never one: no shared east-west address, no shared kubeconfig context."""
    addresses: dict[str, int] = {}
    contexts: dict[tuple[str | None, str | None, str | None], int] = {}
    for index, cluster in enumerate(spec.clusters):
        if cluster.east_west_address is not None:
            first = addresses.setdefault(cluster.east_west_address, index)
            if first != index:
                yield Problem(
                    _at("clusters", index, "eastWestAddress"),
                    f"{cluster.east_west_address} is already mesh:clusters[{first}].eastWestAddress",
                )
        if cluster.kubeconfig is not None and cluster.kubeconfig.context is not None:
            config = cluster.kubeconfig
            first = contexts.setdefault((config.path, config.secret, config.context), index)
            if first != index:
                yield Problem(
                    _at("clusters", index, "kubeconfig", "context"),
                    f"context {config.context!r} is already mesh:clusters[{first}]'s: one cluster, one context",
                )


def _roles(spec: MeshSpec) -> Iterator[Problem]:
    by_name = {cluster.name: cluster for cluster in spec.clusters}
    primaries = [cluster.name for cluster in spec.clusters if cluster.role == "primary"]
    if spec.mode == "primary-remote":
        if not primaries:
            yield Problem(_at("clusters"), "primary-remote mode needs at least one cluster with `role: primary`")
        if len(primaries) == len(spec.clusters):
            yield Problem(
                _at("mode"),
                "primary-remote mode needs at least one cluster with `role: remote` (or use `mode: multi-primary`)",
            )
    for index, cluster in enumerate(spec.clusters):
        if spec.mode == "multi-primary" and cluster.role == "remote":
            yield Problem(
                _at("clusters", index, "role"),
                "'remote' needs `mesh:mode: primary-remote`; in multi-primary every cluster is a primary",
            )
        if cluster.role == "primary" and cluster.primary is not None:
            yield Problem(_at("clusters", index, "primary"), "only a remote names a primary: remove it")
        if cluster.role != "remote":
            continue
        if cluster.primary is None:
            if len(primaries) > 1:
                yield Problem(
                    _at("clusters", index, "primary"),
                    f"required when there are several primaries: one of {', '.join(primaries)}",
                )
        elif cluster.primary not in by_name:
            yield Problem(
                _at("clusters", index, "primary"),
                f"no cluster named {cluster.primary!r}: use one of {', '.join(primaries) or '(no primary)'}",
            )
        elif by_name[cluster.primary].role != "primary":
            yield Problem(
                _at("clusters", index, "primary"),
                f"{cluster.primary!r} is itself a remote: a remote's primary must have `role: primary`",
            )
        if cluster.cloud == "existing" and cluster.east_west_address is None and _own_network(spec, cluster):
            yield Problem(
                _at("clusters", index, "eastWestAddress"),
                "required: a remote on a network of its own needs an east-west gateway address",
            )
    for index, cluster in enumerate(spec.clusters):
        if cluster.cloud == "existing" and cluster.role == "primary" and cluster.east_west_address is None:
            yield Problem(
                _at("clusters", index, "eastWestAddress"),
                "required for an existing primary (its east-west gateway's load-balancer address)",
            )


def _own_network(spec: MeshSpec, remote: ClusterSpec) -> bool:
    primaries = [c for c in spec.clusters if c.role == "primary"]
    primary = next((c for c in primaries if c.name == remote.primary), primaries[0] if primaries else None)
    return primary is None or network_of(primary) != network_of(remote)


def _networks(spec: MeshSpec) -> Iterator[Problem]:
    first_on_network: dict[str, ClusterSpec] = {}
    for index, cluster in enumerate(spec.clusters):
        network = network_of(cluster)
        first = first_on_network.setdefault(network, cluster)
        if first is cluster:
            continue
        key = _at("clusters", index, "network")
        if "existing" not in (first.cloud, cluster.cloud) and first.cloud != cluster.cloud:
            yield Problem(
                key,
                f"network {network!r} already holds {first.name!r} on {first.cloud}: clusters on different "
                "clouds cannot share pod routing; give this cluster a network of its own",
            )
        elif cluster.cloud == "aws" and first.cloud == "aws" and first.vpc_id != cluster.vpc_id:
            yield Problem(
                _at("clusters", index, "vpcId"),
                f"network {network!r} already holds {first.name!r} in "
                f"{f'VPC {first.vpc_id}' if first.vpc_id else 'a VPC meshlib creates'}: clusters on one network "
                "share one VPC, so give them all the same `vpcId` or none",
            )
        elif cluster.cloud == "aws" and first.cloud == "aws" and first.region != cluster.region:
            yield Problem(
                key,
                f"network {network!r} already holds {first.name!r} in {first.region}: an AWS VPC cannot span "
                "regions; give this cluster a network of its own",
            )
        elif cluster.cloud == "gcp" and first.cloud == "gcp" and first.project != cluster.project:
            yield Problem(
                key,
                f"network {network!r} already holds {first.name!r} in project {first.project}: "
                "a VPC network belongs to one project",
            )


def _network_settings(spec: MeshSpec) -> Iterator[Problem]:
    """`mesh:networks` names networks of the mesh; a VPC block only for an AWS VPC meshlib creates."""
    created_aws = {network_of(c) for c in spec.clusters if c.cloud == "aws" and not c.vpc_id}
    known = sorted({network_of(c) for c in spec.clusters})
    for network, settings in spec.networks.items():
        if network not in known:
            yield Problem(_at("networks", network), f"no cluster is on network {network!r}: one of {', '.join(known)}")
        elif settings.vpc_cidr is not None and network not in created_aws:
            yield Problem(_at("networks", network, "vpcCidr"), "only for an AWS network whose VPC meshlib creates")
        elif settings.vpc_cidr is not None and not 16 <= settings.vpc_cidr.prefixlen <= 26:
            yield Problem(_at("networks", network, "vpcCidr"), f"{settings.vpc_cidr} must be between /16 and /26")


def _cluster_cas(spec: MeshSpec) -> Iterator[Problem]:
    """`mesh:clusterCas` replaces `mesh:rootCa` and gives every cluster its CA, and only clusters of the mesh."""
    if spec.cluster_cas is None:
        return
    if spec.root_ca is not None:
        yield Problem(
            _at("clusterCas"),
            "give mesh:rootCa (meshlib issues each cluster's CA from your root) or mesh:clusterCas (your PKI "
            "issues them and keeps the root), not both",
        )
    known = [c.name for c in spec.clusters]
    missing = [name for name in known if name not in spec.cluster_cas]
    if missing:
        yield Problem(
            _at("clusterCas"),
            f"no entry for {', '.join(missing)}: every cluster needs its CA in `cacerts` (else its istiod signs "
            "with a root of its own and cross-cluster mTLS fails)",
        )
    for name in spec.cluster_cas:
        if name not in known:
            yield Problem(_at("clusterCas", name), f"no cluster named {name!r}: one of {', '.join(known)}")


def _cloud_names(spec: MeshSpec, prefix: str) -> Iterator[Problem]:
    """Every cloud name the mesh takes fits its cloud's limits (names are never cut)."""
    hint = f"shorten it or mesh:namePrefix (now {prefix!r})" if prefix else "shorten it"
    on_gcp = any(cluster.cloud == "gcp" for cluster in spec.clusters)
    if prefix and on_gcp and not prefix[0].isalpha():
        key = _at("namePrefix") if spec.name_prefix is not None else _at("meshId")
        yield Problem(key, f"GCP names start with a letter, and every one here starts with {prefix!r}")
    reported: set[str] = set()
    gcp_networks: dict[str, list[int]] = {}
    for index, cluster in enumerate(spec.clusters):
        names: EksNames | GkeNames
        if cluster.cloud == "aws":
            names = EksNames.of(prefix, cluster.name)
        elif cluster.cloud == "gcp":
            names = GkeNames.of(prefix, cluster.name)
            gcp_networks.setdefault(network_of(cluster), []).append(index)
        else:
            continue
        yield from _once_each(_at("clusters", index, "name"), too_long(names), hint, reported, prefix)
    for network, indexes in gcp_networks.items():
        regions = [str(spec.clusters[index].region) for index in indexes]
        names_of_network = GcpNetworkNames.of(prefix, network, regions)
        yield from _once_each(
            _at("clusters", indexes[0], "network"), too_long(names_of_network), hint, reported, prefix
        )


def _once_each(key: str, messages: Iterable[str], hint: str, reported: set[str], prefix: str) -> Iterator[Problem]:
    """Length problems each; a name not starting with a letter once per key (and never again for the prefix)."""
    for message in messages:
        if "start with a letter" in message:
            if prefix or key in reported:
                continue
            reported.add(key)
        yield Problem(key, f"{message}: {hint}")


def _cidrs(spec: MeshSpec) -> Iterator[Problem]:
    placed: list[tuple[str, str, ipaddress.IPv4Network]] = []  # (network, key, cidr)
    for index, cluster in enumerate(spec.clusters):
        for field, cidr in cidrs_of(cluster).items():
            key = _at("clusters", index, field)
            if field == "masterCidr" and cidr.prefixlen != 28:
                yield Problem(key, f"{cidr} must be a /28 (GKE control-plane range)")
            if field == "vpcCidr" and not 16 <= cidr.prefixlen <= 20:
                yield Problem(key, f"{cidr} must be between /16 and /20 (room for four subnets)")
            if field == "serviceCidr" and not 12 <= cidr.prefixlen <= 24:
                yield Problem(key, f"{cidr} must be between /12 and /24")
            if field == "podCidr" and not 9 <= cidr.prefixlen <= 21:
                yield Problem(key, f"{cidr} must be between /9 and /21 (GKE's pod range sizes)")
            if field == "nodeCidr" and not 16 <= cidr.prefixlen <= 29:
                yield Problem(key, f"{cidr} must be between /16 and /29")
            if not any(cidr.subnet_of(private) for private in _PRIVATE_RANGES):
                yield Problem(key, f"{cidr} is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)")
            for network, other_key, other in placed:
                if network == network_of(cluster) and cidr.overlaps(other):
                    yield Problem(
                        key,
                        f"{cidr} overlaps {other} ({other_key}) on network {network!r}: pod and service "
                        "addresses must be unique across a network",
                    )
            placed.append((network_of(cluster), key, cidr))
        if cluster.cloud == "aws" and cluster.vpc_cidr and cluster.service_cidr:
            if cluster.vpc_cidr.overlaps(cluster.service_cidr):
                yield Problem(
                    _at("clusters", index, "serviceCidr"),
                    f"{cluster.service_cidr} overlaps the cluster's own vpcCidr {cluster.vpc_cidr}",
                )
    for network, settings in spec.networks.items():
        if settings.vpc_cidr is None:
            continue
        key = _at("networks", network, "vpcCidr")
        if not any(settings.vpc_cidr.subnet_of(private) for private in _PRIVATE_RANGES):
            yield Problem(key, f"{settings.vpc_cidr} is not in a private range")
        for other_network, other_key, other in placed:
            if other_network == network and settings.vpc_cidr.overlaps(other):
                yield Problem(key, f"{settings.vpc_cidr} overlaps {other} ({other_key}) on network {network!r}")


def _services(spec: MeshSpec) -> Iterator[Problem]:
    names = list(dict.fromkeys(cluster.name for cluster in spec.clusters))
    valid = f"one of {', '.join(names)}"
    by_name = {cluster.name: cluster for cluster in spec.clusters}
    exported: Counter[tuple[str, str, str]] = Counter()
    for index, service in enumerate(spec.services):
        exporter = by_name.get(service.cluster)
        if exporter is not None and exporter.cloud == "existing" and exporter.east_west_address is None:
            yield Problem(
                _at("services", index, "cluster"),
                f"{service.cluster!r} is adopted (`cloud: existing`) and has no `eastWestAddress`: consumers "
                "reach an exported service through the exporter's east-west gateway",
            )
        if service.cluster == "cluster":
            yield Problem(
                _at("services", index, "cluster"),
                f"an exporter named 'cluster' would make {service.name}.{service.namespace}.svc.cluster.local, every "
                "consumer's own local name, point at the exporter: rename the cluster",
            )
        identity = (service.name, service.namespace, service.cluster)
        exported[identity] += 1
        if exported[identity] == 2:
            yield Problem(
                _at("services", index),
                f"{service.name}.{service.namespace} from {service.cluster!r} is exported twice: merge the two entries",
            )
        if service.cluster not in names:
            yield Problem(_at("services", index, "cluster"), f"no cluster named {service.cluster!r}: {valid}")
        for position, consumer in enumerate(service.consumers):
            key = _at("services", index, "consumers", position)
            if consumer not in names:
                yield Problem(key, f"no cluster named {consumer!r}: {valid}")
            elif consumer == service.cluster:
                yield Problem(key, f"{consumer!r} exports the service itself: list only other clusters")
            elif service.consumers.index(consumer) != position:
                yield Problem(key, f"{consumer!r} is listed twice")
        for kind in ("number", "name"):
            values = [getattr(port, kind) for port in service.ports]
            for position, value in enumerate(values):
                if values.index(value) != position:
                    yield Problem(_at("services", index, "ports", position, kind), f"port {kind} {value} repeats")


def _failover(spec: MeshSpec) -> Iterator[Problem]:
    """Failover needs a service in two known clusters or more, once per service, and endpoint discovery."""
    if spec.failover and not spec.endpoint_discovery:
        yield Problem(
            _at("failover"),
            "failover needs `mesh:endpointDiscovery: true`: without it each istiod sees only its own cluster's "
            "endpoints (plus hand-written ServiceEntries for `<svc>.<ns>.svc.<cluster>.local`, a different host "
            "per cluster), so a caller has no other cluster's endpoints to fail over to",
        )
    names = list(dict.fromkeys(cluster.name for cluster in spec.clusters))
    valid = f"one of {', '.join(names)}"
    seen: dict[tuple[str, str], int] = {}
    for index, failover in enumerate(spec.failover):
        identity = (failover.name, failover.namespace)
        if identity in seen:
            yield Problem(
                _at("failover", index),
                f"{failover.name}.{failover.namespace} already has failover at mesh:failover[{seen[identity]}]: "
                "merge the two entries (one DestinationRule per host)",
            )
        else:
            seen[identity] = index
        if len(set(failover.clusters)) < 2:
            yield Problem(
                _at("failover", index, "clusters"),
                f"{failover.name}.{failover.namespace} runs in {len(set(failover.clusters))} cluster(s): failover "
                "needs the service in at least two clusters (the same name and namespace in each)",
            )
        for field in ("clusters", "consumers"):
            listed: list[str] = getattr(failover, field) or []
            for position, cluster in enumerate(listed):
                key = _at("failover", index, field, position)
                if cluster not in names:
                    yield Problem(key, f"no cluster named {cluster!r}: {valid}")
                elif listed.index(cluster) != position:
                    yield Problem(key, f"{cluster!r} is listed twice")
