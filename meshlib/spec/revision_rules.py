"""Rules for `mesh:istio` revisions and tags, application namespaces and ingress gateways."""

from __future__ import annotations

from collections.abc import Iterator

from meshlib.spec.models import DEFAULT_REVISION, MeshSpec, is_ipv4
from meshlib.spec.problems import Problem, key_path

__all__ = ["revision_problems"]

_RESERVED_NAMESPACES = ("istio-system", "kube-system", "kube-public", "kube-node-lease")
EAST_WEST_RELEASE = "istio-eastwestgateway"


def revision_problems(spec: MeshSpec) -> Iterator[Problem]:
    """Every problem of the revisions, tags, namespaces and ingress gateways of `spec`."""
    yield from _revisions(spec)
    yield from _tags(spec)
    yield from _namespaces(spec)
    yield from _ingress(spec)


def _at(*loc: str | int) -> str:
    return key_path(loc)


def _revision_names(spec: MeshSpec) -> list[str]:
    istio = spec.istio
    if istio.revisions is None:
        return [istio.revision or DEFAULT_REVISION]
    return [revision.name for revision in istio.revisions]


def _revisions(spec: MeshSpec) -> Iterator[Problem]:
    istio = spec.istio
    if istio.revisions is None:
        if istio.gateway_revision not in (None, *_revision_names(spec)):
            yield Problem(_at("istio", "gatewayRevision"), f"no revision {istio.gateway_revision!r} is installed")
        return
    for field in ("version", "revision"):
        if field in istio.model_fields_set:
            yield Problem(_at("istio", field), "leave it unset with `revisions` (each revision names its version)")
    names = [revision.name for revision in istio.revisions]
    for index, name in enumerate(names):
        if name in names[:index]:
            yield Problem(_at("istio", "revisions", index, "name"), f"revision {name!r} is listed twice")
    minors = sorted({tuple(int(part) for part in r.version.split(".")[:2]) for r in istio.revisions})
    if len(minors) > 1 and (minors[-1][0] != minors[0][0] or minors[-1][1] - minors[0][1] > 1):
        yield Problem(
            _at("istio", "revisions"),
            f"revisions span Istio {'.'.join(map(str, minors[0]))} to {'.'.join(map(str, minors[-1]))}: Istio "
            "upgrades one minor at a time, so run the minor between as a revision of its own first",
        )
    if len(names) > 1:
        if istio.gateway_revision is None:
            yield Problem(
                _at("istio", "gatewayRevision"),
                f"name the revision that injects the gateways: one of {', '.join(names)}",
            )
        hostnames = [c.name for c in spec.clusters if c.east_west_address and not is_ipv4(c.east_west_address)]
        primaries = {c.primary for c in spec.clusters if c.role == "remote"}
        if any(name in primaries for name in hostnames):
            yield Problem(
                _at("istio", "revisions"),
                f"several revisions need the remotes' primaries reached by IP: {', '.join(hostnames)} has a "
                "hostname east-west address, so its gateway cannot tell the revisions' istiods apart (their "
                "injection webhooks are called by URL, whose SNI is that hostname)",
            )
    if istio.gateway_revision is not None and istio.gateway_revision not in names:
        yield Problem(
            _at("istio", "gatewayRevision"),
            f"no revision {istio.gateway_revision!r}: one of {', '.join(names)}",
        )


def _tags(spec: MeshSpec) -> Iterator[Problem]:
    names = _revision_names(spec)
    for tag, target in spec.istio.tags.items():
        key = _at("istio", "tags", tag)
        if target not in names:
            yield Problem(key, f"no revision {target!r}: one of {', '.join(names)}")
        if tag in names:
            yield Problem(key, f"{tag!r} is also a revision's name: a tag needs a name of its own")
    if DEFAULT_REVISION in names and DEFAULT_REVISION in spec.istio.tags:
        yield Problem(
            _at("istio", "tags", DEFAULT_REVISION),
            "the control plane installed without a revision serves `istio-injection=enabled` and `istio.io/rev="
            "default` itself: remove it (and this tag with it) when moving the default elsewhere",
        )
    if len(names) > 1 and DEFAULT_REVISION not in names and DEFAULT_REVISION not in spec.istio.tags:
        yield Problem(
            _at("istio", "tags"),
            f"with several revisions, add a `default` tag naming the one that injects `istio-injection=enabled` "
            f"namespaces (one of {', '.join(names)})",
        )


def _namespaces(spec: MeshSpec) -> Iterator[Problem]:
    clusters = [cluster.name for cluster in spec.clusters]
    tags = {*spec.istio.tags, DEFAULT_REVISION}
    revisions = set(_revision_names(spec)) - {DEFAULT_REVISION}
    seen: set[str] = set()
    for index, namespace in enumerate(spec.namespaces):
        if namespace.name in seen:
            yield Problem(_at("namespaces", index, "name"), f"namespace {namespace.name!r} is listed twice")
        seen.add(namespace.name)
        if namespace.name in _RESERVED_NAMESPACES:
            yield Problem(_at("namespaces", index, "name"), f"{namespace.name!r} is not an application namespace")
        if namespace.tag is not None and namespace.tag not in tags:
            hint = (
                f"namespaces follow tags, not revisions: add a tag pointing at {namespace.tag!r} under "
                "`mesh:istio.tags` and name that tag here"
                if namespace.tag in revisions
                else f"one of {', '.join(sorted(tags))}"
            )
            yield Problem(_at("namespaces", index, "tag"), f"no tag {namespace.tag!r}: {hint}")
        for position, cluster in enumerate(namespace.clusters or ()):
            if cluster not in clusters:
                yield Problem(
                    _at("namespaces", index, "clusters", position),
                    f"no cluster named {cluster!r}: one of {', '.join(clusters)}",
                )


def _ingress(spec: MeshSpec) -> Iterator[Problem]:
    for index, cluster in enumerate(spec.clusters):
        if cluster.ingress_gateway is not None and cluster.ingress_gateway.name == EAST_WEST_RELEASE:
            yield Problem(
                _at("clusters", index, "ingressGateway", "name"),
                f"{EAST_WEST_RELEASE!r} is the east-west gateway's release: choose another name",
            )
