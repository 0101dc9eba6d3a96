"""The fleet layout: one mesh as many small stacks, each depending only on stacks of earlier layers.

Pure decisions from a validated spec (docs/fleet.md says why each value sits where it does):

- `trust`: the root CA and one intermediate per cluster. Reads nothing.
- `network-<net>`: the VPC or network of an Istio network meshlib creates, its NAT egress. Reads nothing.
- `cluster-<c>`: the cluster, its nodes, its east-west address. Reads its network, and the networks
  of the primaries that watch it (their egress IPs are admitted to its API server).
- `istio-<c>`: `istio-system`, `cacerts`, `base`, istiod per revision, tags, the reader account and a
  token per watcher; a primary's east-west gateway, Istio config and applications. Reads `trust`,
  `cluster-<c>`, a remote's primary's `cluster-` (its address), a primary's peers' networks.
- `wiring-<c>`: the remote secrets `c` holds, its imports and failover rules; a remote's east-west
  gateway and applications. Reads the `cluster-` and `istio-` stacks of what it watches or imports,
  and a remote's primary's `istio-` and `wiring-` (the remote secret that lets istiod serve it).
- `verify-<c>`: the deploy-time checks run in `c`. Reads the `wiring-` stacks of `c`, its exporters
  and its primary.

The longest chain is network -> cluster -> istio -> wiring (primary) -> wiring (remote) -> verify:
six layers whatever the number of clusters, and no stack of a cluster reads a later stack.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from meshlib.plan.topology import MeshPlan, plan_mesh
from meshlib.spec.models import MeshSpec

__all__ = ["FleetLayout", "FleetStack", "Kind", "LayoutCycleError", "plan_fleet"]

Kind = Literal["trust", "network", "cluster", "istio", "wiring", "verify"]
KINDS: tuple[Kind, ...] = ("trust", "network", "cluster", "istio", "wiring", "verify")


@dataclass(frozen=True)
class FleetStack:
    """One stack of the fleet: what kind of unit it holds, of which cluster or network, and what it reads."""

    kind: Kind
    unit: str
    """The cluster (`cluster`, `istio`, `wiring`, `verify`), the network (`network`), or '' (`trust`)."""
    needs: tuple[str, ...] = field(default=(), compare=False)
    """The stacks whose outputs it reads (by name), sorted."""

    @property
    def name(self) -> str:
        """`trust`, `network-<net>`, `<kind>-<cluster>`."""
        return self.kind if self.kind == "trust" else f"{self.kind}-{self.unit}"


class LayoutCycleError(ValueError):
    """Stacks that read each other's outputs: no order deploys them (a bug in the layout, never config)."""


@dataclass(frozen=True)
class FleetLayout:
    """Every stack of a fleet, in a stable order (kind, then config order)."""

    plan: MeshPlan
    stacks: tuple[FleetStack, ...]

    def stack(self, name: str) -> FleetStack:
        """The stack called `name`."""
        return self._by_name[name]

    @cached_property
    def _by_name(self) -> dict[str, FleetStack]:
        return {stack.name: stack for stack in self.stacks}

    @cached_property
    def layers(self) -> tuple[tuple[FleetStack, ...], ...]:
        """Stacks grouped by the length of their longest chain of reads: a layer reads only earlier layers."""
        depth: dict[str, int] = {}
        visiting: set[str] = set()

        def level(name: str) -> int:
            if name in depth:
                return depth[name]
            if name in visiting:
                raise LayoutCycleError(f"stack {name!r} reads its own outputs through {sorted(visiting)}")
            visiting.add(name)
            found = 1 + max((level(needed) for needed in self._by_name[name].needs), default=-1)
            visiting.discard(name)
            depth[name] = found
            return found

        for stack in self.stacks:
            level(stack.name)
        count = max(depth.values(), default=-1) + 1
        return tuple(tuple(s for s in self.stacks if depth[s.name] == index) for index in range(count))


def plan_fleet(spec: MeshSpec) -> FleetLayout:
    """The fleet's stacks and what each reads (see the module's table)."""
    plan = plan_mesh(spec)
    networks = {  # a cloud cluster's network stack, when meshlib creates that network
        c.name: f"network-{c.network}" for c in spec.clusters if c.cloud in ("aws", "gcp")
    }
    stacks: list[FleetStack] = [FleetStack("trust", "")]
    stacks += [
        FleetStack("network", network)
        for network in dict.fromkeys(n.removeprefix("network-") for n in networks.values())
    ]
    for cluster in plan.clusters:
        name = cluster.name
        watchers = plan.watchers_of(name)
        stacks.append(
            FleetStack(
                "cluster",
                name,
                _sorted([networks.get(name), *(networks.get(w) for w in watchers)]),
            )
        )

    def peer_networks(name: str) -> list[str]:
        """The network stacks of every other cluster: an east-west gateway admits their egress IPs."""
        return [networks[peer.name] for peer in plan.clusters if peer.name != name and peer.name in networks]

    for cluster in plan.clusters:
        name = cluster.name
        reads = ["trust", f"cluster-{name}"]
        if not cluster.is_primary:
            reads.append(f"cluster-{cluster.config_cluster}")
        elif cluster.east_west_gateway:
            reads += peer_networks(name)
        stacks.append(FleetStack("istio", name, _sorted(reads)))
    for cluster in plan.clusters:
        name = cluster.name
        reads = [f"istio-{name}", f"cluster-{name}"]
        for watched in cluster.watches:
            reads += [f"cluster-{watched}", f"istio-{watched}"]
        reads += [f"cluster-{imported.exporter}" for imported in cluster.imports]
        if not cluster.is_primary:
            reads += [f"istio-{cluster.config_cluster}", f"wiring-{cluster.config_cluster}"]
            if cluster.east_west_gateway:
                reads += peer_networks(name)
        stacks.append(FleetStack("wiring", name, _sorted(reads)))
    if spec.verify.enabled:
        for cluster in plan.clusters:
            name = cluster.name
            exporters = {s.cluster for s in spec.services if name in s.consumers}
            reads = [f"wiring-{name}", f"cluster-{name}"]
            reads += [f"{kind}-{e}" for e in exporters for kind in ("wiring", "cluster")]
            if not cluster.is_primary:
                reads.append(f"wiring-{cluster.config_cluster}")
            stacks.append(FleetStack("verify", name, _sorted(reads)))
    return FleetLayout(plan=plan, stacks=tuple(stacks))


def _sorted(names: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({name for name in names if name}))
