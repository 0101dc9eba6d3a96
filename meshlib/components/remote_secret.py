"""`RemoteSecret`: lets a primary's istiod watch another cluster's API server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import pulumi
import pulumi_kubernetes as k8s

from meshlib.plan.credentials import (
    decode_token,
    reader_token_metadata,
    remote_secret_kubeconfig,
    remote_secret_metadata,
)

__all__ = ["ClusterEnd", "RemoteSecret", "RemoteSecretArgs"]


class ClusterEnd(Protocol):
    """One end of a remote secret: a `MeshCluster`, or in a fleet stack the facts of one built elsewhere."""

    @property
    def cluster_name(self) -> str: ...

    @property
    def endpoint(self) -> pulumi.Output[str]: ...

    @property
    def certificate_authority(self) -> pulumi.Output[str]: ...

    @property
    def provider(self) -> k8s.Provider | None: ...


@dataclass
class RemoteSecretArgs:
    """Inputs of `RemoteSecret`."""

    watched: ClusterEnd
    """The cluster whose API server istiod reads."""
    watcher: ClusterEnd
    """The primary that holds the secret."""
    reader_account_ready: Sequence[pulumi.Resource] = field(default_factory=list)
    """The watched cluster's reader account and bindings (`RemoteReader.ready`)."""
    token_generation: int = 0
    """Bump to rotate: a new token Secret, the remote secret updated in place, the old token deleted."""
    watcher_ready: Sequence[pulumi.Resource] = field(default_factory=list)
    """The watcher's `istio-system` namespace (or what creates it)."""
    token: pulumi.Input[str] | None = None
    """A fleet's watcher stack: the reader token its watched cluster's stack made (none is made here)."""
    make_secret: bool = True
    """False in a fleet's watched-cluster stack: make only the token (`RemoteSecret.token`), for the watcher's."""


class RemoteSecret(pulumi.ComponentResource):
    """What `istioctl create-remote-secret` makes, end to end secret.

    In the watched cluster, a service-account-token Secret for the reader account,
    read back once Kubernetes filled in the token; in the watcher, Secret
    `istio-remote-secret-<watched>` holding a bearer-token kubeconfig. A fleet makes the two
    halves in the two clusters' stacks, under the same names (`token`, `make_secret`).
    """

    token: pulumi.Output[str] | None
    """The reader token (a secret), when made here."""

    def __init__(self, name: str, args: RemoteSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:RemoteSecret", name, None, opts)
        watched, watcher = args.watched, args.watcher
        self.watched = watched.cluster_name
        self.watcher = watcher.cluster_name
        cluster = watched.cluster_name
        self.token = None
        if args.token is None:
            self.token = pulumi.Output.secret(self._reader_token(name, args))
        token = self.token if args.token is None else pulumi.Output.from_input(args.token)
        if args.make_secret:
            # One apply from the three values to the kubeconfig (not one per step): fewer Outputs to schedule.
            kubeconfig: pulumi.Output[str] = pulumi.Output.all(
                watched.endpoint, watched.certificate_authority, token
            ).apply(lambda found: remote_secret_kubeconfig(cluster, found[0], found[1], found[2]))
            self.secret = k8s.core.v1.Secret(
                f"{name}-secret",
                metadata=cast(Any, remote_secret_metadata(cluster)),
                string_data={cluster: kubeconfig},
                opts=pulumi.ResourceOptions(
                    parent=self, provider=watcher.provider, depends_on=list(args.watcher_ready)
                ),
            )
        self.register_outputs({"watched": watched.cluster_name, "watcher": watcher.cluster_name})

    def _reader_token(self, name: str, args: RemoteSecretArgs) -> pulumi.Output[str]:
        """The reader's token Secret in the watched cluster, read back once Kubernetes filled it in."""
        # Plain dicts, not `ObjectMetaArgs`: the same inputs, without an input type for the SDK to walk.
        # At fleet size this component is two thirds of the plan (one per watcher and watched cluster).
        token_secret = k8s.core.v1.Secret(
            f"{name}-reader-token",
            metadata=cast(Any, reader_token_metadata(args.watcher.cluster_name, args.token_generation)),
            type="kubernetes.io/service-account-token",
            # The token controller deletes a token Secret whose account does not exist yet.
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.watched.provider, depends_on=list(args.reader_account_ready)
            ),
        )
        populated = k8s.core.v1.Secret.get(
            f"{name}-reader-token-read",
            token_secret.id,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.watched.provider,
                depends_on=[token_secret],
                additional_secret_outputs=["data"],
            ),
        )
        cluster = args.watched.cluster_name
        return populated.data.apply(lambda data: _token(data, cluster))


def _token(data: Mapping[str, str] | None, cluster: str) -> str:
    """The reader token Kubernetes wrote into the Secret; an empty one would fail silently in istiod."""
    encoded = (data or {}).get("token")
    if not encoded:
        raise pulumi.RunError(
            f"cluster {cluster!r}: the reader token Secret has no token: does the meshlib-reader account exist?"
        )
    return decode_token(encoded)
