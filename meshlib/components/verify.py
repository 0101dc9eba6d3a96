"""`MeshVerification`: the checks `pulumi up` awaits after building the mesh (docs/verify.md).

pulumi-kubernetes awaits a Job until its `Complete` condition and fails the update on `Failed`
(registry docs of `kubernetes.batch/v1.Job`; `provider/pkg/await/job.go`), reporting the pod's
termination message (`provider/pkg/await/checker/pod/check.go`), which the check writes.
A Job's `metadata.name` and `spec.template` force replacement (`provider/pkg/provider/diff.go`):
each Job is named by a hash of what it verifies, so it reruns exactly when that changes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from meshlib.components.cluster import MeshCluster
from meshlib.plan.manifests import ISTIO_NAMESPACE, Manifest
from meshlib.plan.topology import MeshPlan
from meshlib.plan.verify import Check, checks, job, namespace, responder_manifests, service_account

__all__ = ["MeshVerification", "MeshVerificationArgs"]


@dataclass
class MeshVerificationArgs:
    """Inputs of `MeshVerification`."""

    plan: MeshPlan
    clusters: Mapping[str, MeshCluster]
    prefix: str
    """Starts every resource name, followed by the cluster it is in (as every other resource of the mesh)."""
    istiods: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """Per cluster, its stable istiod release. These mappings name what each check verifies, so that it runs
    after exactly that: none of them in a fleet stack, whose earlier stacks hold them."""
    gateways: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """Per cluster, its east-west gateway."""
    remote_secrets: Mapping[tuple[str, str], pulumi.Resource] = field(default_factory=dict)
    """Per (watcher, watched), the remote secret."""
    federations: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """Per config cluster, its ServiceEntries and DestinationRules."""
    applications: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """Per cluster, its application namespaces (and the tags they follow)."""
    control_namespaces: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    """Per cluster, its `istio-system` Namespace resource."""
    checks_in: Collection[str] | None = None
    """Only the checks run in these clusters (a fleet's `verify-<cluster>` stack); None: every check."""
    responders_in: Collection[str] | None = None
    """Only the responders of services these clusters export (a fleet's `wiring-<cluster>`); None: all."""


class MeshVerification(pulumi.ComponentResource):
    """One Job per check (`meshlib.plan.verify.checks`), each after everything it verifies."""

    jobs: dict[str, k8s.batch.v1.Job]

    def __init__(self, name: str, args: MeshVerificationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:MeshVerification", name, None, opts)
        plan, spec = args.plan, args.plan.spec
        found = checks(plan)
        in_scope = [c for c in found if args.checks_in is None or c.cluster in args.checks_in]
        self.jobs = {}
        created: dict[tuple[str, str], pulumi.Resource] = {}

        def on(cluster: str, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self, provider=args.clusters[cluster].provider, depends_on=list(depends_on)
            )

        def setup(cluster: str, in_namespace: str) -> pulumi.Resource:
            """The namespace (for `meshlib-verify`) and the checks' service account, once per cluster."""
            key = (cluster, in_namespace)
            if key not in created:
                needs: list[pulumi.Resource] = []
                if in_namespace == ISTIO_NAMESPACE:
                    needs = [args.control_namespaces[cluster]] if cluster in args.control_namespaces else []
                else:
                    needs = [
                        _create(
                            f"{args.prefix}-{cluster}-verify-namespace",
                            namespace(spec),
                            on(cluster, _present(args.istiods.get(cluster))),
                        )
                    ]
                created[key] = _create(
                    f"{args.prefix}-{cluster}-verify-{in_namespace}-account",
                    service_account(in_namespace),
                    on(cluster, needs),
                )
            return created[key]

        responders: dict[str, list[pulumi.Resource]] = {}
        for service in spec.services:
            if args.responders_in is not None and service.cluster not in args.responders_in:
                continue
            if not (service.verify and service.responder) or not any(
                c.exporter == service.cluster and c.facts["host"].startswith(f"{service.name}.{service.namespace}.")
                for c in found
            ):
                continue
            ports = [(port.number, port.name) for port in service.ports]
            prefix = f"{args.prefix}-{service.cluster}-verify-responder-{service.name}-{service.namespace}"
            responders.setdefault(
                f"{service.name}.{service.namespace}.{service.cluster}",
                [
                    _create(
                        f"{prefix}-{manifest['kind'].lower()}",
                        manifest,
                        on(
                            service.cluster,
                            _present(args.istiods.get(service.cluster), args.applications.get(service.cluster)),
                        ),
                    )
                    for manifest in responder_manifests(spec, service.name, service.namespace, ports)
                ],
            )

        for check in in_scope:
            in_namespace = ISTIO_NAMESPACE if check.kind == "sync" else "meshlib-verify"
            account = setup(check.cluster, in_namespace)
            needs = [account, *_verified(check, args)]
            if check.kind == "call":
                service_key = check.facts["host"].split(".svc.")[0] + f".{check.exporter}"
                needs += responders.get(service_key, [])
            env: dict[str, Any] = {}
            exporter = args.clusters[check.exporter].east_west if check.exporter else None
            if exporter is not None:
                # The addresses the ServiceEntry points at: a new address reruns the check.
                env["EXPORTER_ADDRESSES"] = exporter.addresses.apply(lambda ips: ",".join(sorted(ips)))
            manifest = job(spec, check, env)
            self.jobs[f"{check.cluster}-{check.key}"] = _create(
                _job_resource_name(args.prefix, check.cluster, check.key),
                manifest,
                on(check.cluster, list(dict.fromkeys(needs))),
            )
        self.register_outputs({"jobs": {key: j.metadata.name for key, j in self.jobs.items()}})


def _verified(check: Check, args: MeshVerificationArgs) -> list[pulumi.Resource]:
    """What `check` verifies, from the mesh's parts: the check runs after exactly these."""
    if check.kind == "sync":
        watcher, watched = check.depends_on_clusters
        return _present(args.istiods.get(watcher), args.remote_secrets.get((watcher, watched)))
    if check.kind == "remote":
        remote, primary = check.depends_on_clusters
        return _present(
            args.istiods.get(remote), args.gateways.get(primary), args.remote_secrets.get((primary, remote))
        )
    consumer, holder, exporter = check.depends_on_clusters
    return _present(
        args.istiods.get(consumer),
        args.federations.get(holder),
        args.istiods.get(exporter),
        args.gateways.get(exporter),
        args.remote_secrets.get((holder, exporter)),
    )


def _present(*resources: pulumi.Resource | None) -> list[pulumi.Resource]:
    return [resource for resource in resources if resource is not None]


def _job_resource_name(prefix: str, cluster: str, key: str) -> str:
    """`<prefix>-<cluster>-verify-<key>`; a sync check is named like the remote secret it proves,
    `<prefix>-<watcher>-watches-<watched>-verify`, so that it goes with either cluster."""
    if key.startswith("sync-"):
        return f"{prefix}-{cluster}-watches-{key.removeprefix('sync-')}-verify"
    return f"{prefix}-{cluster}-verify-{key}"


def _create(resource_name: str, manifest: Manifest, opts: pulumi.ResourceOptions) -> Any:
    """Create `manifest` with its typed pulumi_kubernetes class."""
    kinds: dict[str, Any] = {
        "Namespace": k8s.core.v1.Namespace,
        "ServiceAccount": k8s.core.v1.ServiceAccount,
        "Service": k8s.core.v1.Service,
        "Deployment": k8s.apps.v1.Deployment,
        "Job": k8s.batch.v1.Job,
    }
    body = {key: value for key, value in manifest.items() if key not in ("apiVersion", "kind")}
    return kinds[manifest["kind"]](resource_name, opts=opts, **_snake(body))


def _snake(body: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level keys as the SDK's keyword arguments (`automountServiceAccountToken` -> `automount_...`)."""
    return {"".join(f"_{c.lower()}" if c.isupper() else c for c in key): value for key, value in body.items()}
