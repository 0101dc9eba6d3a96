"""Failover between clusters: one DestinationRule per service, in each config cluster serving its callers.

With endpoint discovery every primary's istiod merges the endpoints of all clusters under
`<name>.<namespace>.svc.cluster.local`. The rule tells callers' proxies to prefer the endpoints
that share their network, region, zone and cluster (in the configured order), and to move on
to the next group only when outlier detection has ejected the nearer ones. Istio's locality
failover task: "Outlier detection ... is required in order for failover to function properly"
(https://istio.io/latest/docs/tasks/traffic-management/locality-load-balancing/failover/).

Where the rule lives: the root namespace `istio-system`, exported to every namespace.

- Istio looks a host's DestinationRule up in the caller's namespace, then the service's
  namespace, then the root namespace (https://istio.io/v1.3/docs/ops/traffic-management/deploy-guidelines/),
  so a rule in `istio-system` reaches every caller. A rule in the service's namespace would
  take precedence, but that namespace need not exist in a config cluster that only calls the
  service (a consumer primary, or the primary of remotes that run it): Kubernetes refuses an
  object in a missing namespace, and creating an application namespace from meshlib would make
  `pulumi destroy` delete everything in it. `istio-system` exists in every config cluster, made
  by meshlib before istiod.
- `exportTo: ["*"]` is explicit because mesh config `defaultDestinationRuleExportTo` may narrow
  the default, and a rule in the root namespace that callers cannot see does nothing.
- The price: a DestinationRule of your own for the same host in the caller's or the service's
  namespace wins outright (Istio does not merge rules across namespaces); put the failover
  settings into it instead (docs/failover.md).
"""

from __future__ import annotations

from typing import Any

from meshlib.plan.manifests import ISTIO_NAMESPACE, NETWORKING, Manifest
from meshlib.plan.topology import MeshPlan
from meshlib.spec.models import FailoverSpec

__all__ = ["FAILOVER_LABELS", "failover_destination_rule", "failover_host", "failover_rules"]

FAILOVER_LABELS = {
    "network": "topology.istio.io/network",
    "region": "topology.kubernetes.io/region",
    "zone": "topology.kubernetes.io/zone",
    "cluster": "topology.istio.io/cluster",
}
"""Config's priority levels -> the labels Istio's `localityLbSetting.failoverPriority` compares between
caller and endpoint (https://istio.io/latest/docs/ops/configuration/traffic-management/multicluster/)."""


def failover_host(failover: FailoverSpec) -> str:
    """The host every cluster's endpoints merge under: `<name>.<namespace>.svc.cluster.local`."""
    return f"{failover.name}.{failover.namespace}.svc.cluster.local"


def failover_destination_rule(failover: FailoverSpec) -> Manifest:
    """The DestinationRule `<name>.<namespace>-failover` in `istio-system`: outlier detection + failover priority."""
    detection = failover.outlier_detection
    spec: dict[str, Any] = {
        "host": failover_host(failover),
        "exportTo": ["*"],
        "trafficPolicy": {
            "loadBalancer": {
                "localityLbSetting": {
                    "enabled": True,
                    "failoverPriority": [FAILOVER_LABELS[level] for level in failover.priority],
                }
            },
            "outlierDetection": {
                "consecutive5xxErrors": detection.consecutive_5xx_errors,
                "interval": detection.interval,
                "baseEjectionTime": detection.base_ejection_time,
                "maxEjectionPercent": detection.max_ejection_percent,
            },
        },
    }
    return {
        "apiVersion": NETWORKING,
        "kind": "DestinationRule",
        "metadata": {"name": f"{failover.name}.{failover.namespace}-failover", "namespace": ISTIO_NAMESPACE},
        "spec": spec,
    }


def failover_rules(plan: MeshPlan) -> dict[str, list[Manifest]]:
    """Per config cluster (config order), the failover rules it holds for its own and its remotes' callers.

    A service's callers are its `consumers` (default every cluster); each one's config cluster
    (`ClusterPlan.config_cluster`: itself if a primary, else its primary) holds the rule once.
    The spec must have passed `meshlib.spec.rules` (known clusters, endpoint discovery on).
    """
    order = [cluster.name for cluster in plan.clusters]
    rules: dict[str, list[Manifest]] = {cluster.config_cluster: [] for cluster in plan.clusters}
    for failover in plan.spec.failover:
        consumers = failover.consumers if failover.consumers is not None else order
        for holder in dict.fromkeys(plan.cluster(consumer).config_cluster for consumer in consumers):
            rules[holder].append(failover_destination_rule(failover))
    return {name: rules[name] for name in order if rules.get(name)}
