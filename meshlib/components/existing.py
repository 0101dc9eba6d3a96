"""Adopting a cluster that already exists, reached through a kubeconfig (`cloud: existing`).

Three ways to name the kubeconfig: a file path (`kubeconfig.path`), the default file
(`$KUBECONFIG`'s first entry, then `~/.kube/config`), or a secret config key
(`kubeconfig.secret`) holding the whole file. In path mode the provider gets the *path*, so
no credential of the file is copied into the provider's inputs (the component's `kubeconfig`
output, a secret, does carry that context's user).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from meshlib.components.cluster import EastWestExposure, MeshCluster, child_opts
from meshlib.spec.kubeconfigs import default_kubeconfig_path
from meshlib.spec.models import ClusterSpec, is_ipv4
from meshlib.spec.rules import network_of

__all__ = [
    "ExistingCluster",
    "ExistingClusterArgs",
    "KubeconfigTarget",
    "default_kubeconfig_path",
    "parse_kubeconfig",
    "resolve_context",
]


@dataclass(frozen=True)
class KubeconfigTarget:
    """What the mesh needs from one context of a kubeconfig."""

    context: str
    server: str
    certificate_authority: str
    """The cluster CA, base64-encoded PEM."""
    kubeconfig: str
    """The kubeconfig restricted to that context (its cluster and user), CA inlined."""


def parse_kubeconfig(text: str, cluster: str, source: str) -> dict[str, Any]:
    """The kubeconfig `text` as a mapping; `pulumi.RunError` naming `cluster` and `source` if it is not one."""
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise pulumi.RunError(f"cluster {cluster!r}: {source} is not valid YAML ({error})") from None
    if not isinstance(config, dict) or not isinstance(config.get("contexts"), list):
        raise pulumi.RunError(f"cluster {cluster!r}: {source} is not a kubeconfig (it has no `contexts` list)")
    return config


def _named(config: Mapping[str, Any], kind: str, name: str) -> dict[str, Any] | None:
    for entry in config.get(kind) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def resolve_context(
    config: Mapping[str, Any], context: str | None, *, cluster: str, source: str, base_dir: str | None
) -> KubeconfigTarget:
    """The API server and CA of `context` (default: the current context) in a parsed kubeconfig.

    `base_dir` is the kubeconfig file's directory: relative file paths in it are relative to there
    (None when the kubeconfig came from config, not a file: paths then resolve from the working directory).
    """
    wanted = context or config.get("current-context")
    if not wanted:
        raise pulumi.RunError(
            f"cluster {cluster!r}: {source} has no current context; set kubeconfig.context to one of "
            f"{_names(config, 'contexts')}"
        )
    context_entry = _named(config, "contexts", wanted)
    if context_entry is None:
        raise pulumi.RunError(
            f"cluster {cluster!r}: {source} has no context {wanted!r}; it has {_names(config, 'contexts')}"
        )
    details = context_entry.get("context") or {}
    cluster_entry = _named(config, "clusters", str(details.get("cluster")))
    if cluster_entry is None:
        raise pulumi.RunError(
            f"cluster {cluster!r}: context {wanted!r} of {source} refers to cluster {details.get('cluster')!r}, "
            "which the file does not define"
        )
    server_info = dict(cluster_entry.get("cluster") or {})
    server = server_info.get("server")
    if not server:
        raise pulumi.RunError(f"cluster {cluster!r}: context {wanted!r} of {source} has no API server URL")
    ca_data = server_info.get("certificate-authority-data")
    if not ca_data and server_info.get("certificate-authority"):
        ca_path = _resolve(str(server_info["certificate-authority"]), base_dir)
        try:
            ca_data = base64.b64encode(Path(ca_path).read_bytes()).decode()
        except OSError as error:
            raise pulumi.RunError(
                f"cluster {cluster!r}: cannot read certificate-authority {ca_path} of context {wanted!r} in "
                f"{source} ({error.strerror})"
            ) from None
    if not ca_data:
        raise pulumi.RunError(
            f"cluster {cluster!r}: context {wanted!r} of {source} has no certificate-authority(-data); "
            "istiod's remote secrets need the API server's CA"
        )
    server_info.pop("certificate-authority", None)
    server_info["certificate-authority-data"] = ca_data
    user_entry = _named(config, "users", str(details.get("user"))) or {"name": details.get("user"), "user": {}}
    restricted: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_entry["name"], "cluster": server_info}],
        "contexts": [context_entry],
        "current-context": wanted,
        "preferences": {},
        "users": [_absolute_user(user_entry, base_dir)],
    }
    return KubeconfigTarget(
        context=wanted,
        server=str(server),
        certificate_authority=str(ca_data),
        kubeconfig=yaml.safe_dump(restricted, sort_keys=False),
    )


def _home_relative(path: str, home: str) -> str:
    """`path` with the home directory written `~`, so that it reads the same on every machine."""
    if path.startswith(home.rstrip(os.sep) + os.sep):
        return "~" + path[len(home.rstrip(os.sep)) :]
    return path


def _names(config: Mapping[str, Any], kind: str) -> str:
    names = [str(entry.get("name")) for entry in config.get(kind) or [] if isinstance(entry, dict)]
    return ", ".join(repr(name) for name in names) or "none"


def _resolve(path: str, base_dir: str | None) -> str:
    expanded = os.path.expanduser(path)
    if base_dir is None or os.path.isabs(expanded):
        return expanded
    return os.path.join(base_dir, expanded)


def _absolute_user(entry: Mapping[str, Any], base_dir: str | None) -> dict[str, Any]:
    """`entry` with its file references made absolute, so the restricted kubeconfig works from anywhere."""
    user = dict(entry.get("user") or {})
    for key in ("client-certificate", "client-key", "tokenFile"):
        if isinstance(user.get(key), str):
            user[key] = _resolve(user[key], base_dir)
    return {"name": entry.get("name"), "user": user}


@dataclass
class ExistingClusterArgs:
    """Inputs of `ExistingCluster`."""

    spec: ClusterSpec
    """A `cloud: existing` cluster: its `kubeconfig` and optional `east_west_address`."""
    kubeconfig: pulumi.Input[str] | None = None
    """The kubeconfig's content (e.g. another stack's output), in place of the spec's `kubeconfig.secret` key."""


class ExistingCluster(MeshCluster):
    """A cluster the mesh adopts as it is: nothing is created but its Kubernetes provider."""

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("meshlib:index:ExistingCluster", name, None, opts)
        spec = args.spec
        if spec.cloud != "existing":
            raise pulumi.RunError(f"cluster {spec.name!r} is a `{spec.cloud}` cluster, not `existing`")
        self.cluster_name = spec.name
        self.cloud = "existing"
        self.network = network_of(spec)
        context = spec.kubeconfig.context if spec.kubeconfig else None
        secret_key = spec.kubeconfig.secret if spec.kubeconfig else None

        provider_kubeconfig: pulumi.Input[str]
        if args.kubeconfig is not None or secret_key:
            if args.kubeconfig is not None:
                text = pulumi.Output.secret(args.kubeconfig)
                source = f"the kubeconfig given for cluster {spec.name!r}"
            else:
                assert secret_key is not None
                text = pulumi.Config("mesh").require_secret(secret_key)
                source = f"the kubeconfig in secret config key mesh:{secret_key}"
            target = text.apply(
                lambda content: resolve_context(
                    parse_kubeconfig(content, spec.name, source),
                    context,
                    cluster=spec.name,
                    source=source,
                    base_dir=None,
                )
            )
            # The server URL and CA are not secret, though they come from a secret.
            self.endpoint = pulumi.Output.unsecret(target.apply(lambda found: found.server))
            self.certificate_authority = pulumi.Output.unsecret(target.apply(lambda found: found.certificate_authority))
            self.kubeconfig = pulumi.Output.secret(target.apply(lambda found: found.kubeconfig))
            provider_kubeconfig = text
        else:
            configured = spec.kubeconfig.path if spec.kubeconfig else None
            path = os.path.abspath(
                os.path.expanduser(configured or default_kubeconfig_path(os.environ, os.path.expanduser("~")))
            )
            try:
                content = Path(path).read_text()
            except OSError as error:
                raise pulumi.RunError(
                    f"cluster {spec.name!r}: cannot read kubeconfig file {path} ({error.strerror}); set "
                    "kubeconfig.path, or kubeconfig.secret to a secret config key holding the kubeconfig"
                ) from None
            source = f"kubeconfig file {path}"
            found = resolve_context(
                parse_kubeconfig(content, spec.name, source),
                context,
                cluster=spec.name,
                source=source,
                base_dir=os.path.dirname(path),
            )
            context = found.context  # pin it: a later `kubectl config use-context` must not retarget the mesh
            self.endpoint = pulumi.Output.from_input(found.server)
            self.certificate_authority = pulumi.Output.from_input(found.certificate_authority)
            self.kubeconfig = pulumi.Output.secret(found.kubeconfig)
            # The path as configured, never as resolved here: a preview on another machine (another
            # home directory) must not show a diff. The provider expands `~` itself.
            provider_kubeconfig = configured or _home_relative(
                default_kubeconfig_path(os.environ, "~"), os.path.expanduser("~")
            )

        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=provider_kubeconfig,
            context=context,
            cluster_identifier=spec.name,
            # Secrets change in place (a renewed intermediate in `cacerts`, a rotated token) rather than being
            # deleted and re-created (pulumi-kubernetes `diff.go` replaces a Secret on any data change otherwise).
            enable_secret_mutable=True,
            opts=child_opts(self),
        )
        self.east_west = None
        if spec.east_west_address:
            is_ip = is_ipv4(spec.east_west_address)
            self.east_west = EastWestExposure(
                addresses=pulumi.Output.from_input([spec.east_west_address]),
                # Ask the load balancer (MetalLB, a cloud's) for exactly the configured IP.
                load_balancer_ip=spec.east_west_address if is_ip else None,
                is_hostname=not is_ip,
            )
        self.egress_ips = pulumi.Output.from_input([])
        self.egress_known = False
        """Nothing is known about where an adopted cluster's traffic leaves from."""
        self.control_plane_egress_known = False
        self.register_outputs(self.mesh_outputs())
