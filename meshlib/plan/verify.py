"""What `pulumi up` checks after building the mesh, the Jobs that check it, and how a result is judged.

Three kinds of check (issue 16, docs/verify.md), each a Kubernetes Job that `pulumi up` awaits:

- `sync`: in each primary, istiod reports every cluster it watches as `synced`. The signal is what
  `istioctl remote-clusters` reads: istiod's `/debug/clusterz` (istio 1.30.3
  `istioctl/pkg/proxyconfig/clusters.go`, `AllDiscoveryDo(..., "debug/clusterz")`), a JSON list of
  `{"id", "secretName", "syncStatus"}` (`pkg/cluster/debug.go`) with status `synced`, `syncing`,
  `timeout` or `closed` (`pkg/kube/multicluster/cluster.go`). istioctl port-forwards to the monitoring
  port 15014 (`pkg/kube/client.go` `FindIstiodMonitoringPort`); from a pod, istiod authenticates the
  caller like an xDS client, with a Kubernetes token of audience `istio-ca` (`TOKEN_AUDIENCES`,
  `pkg/security/security.go`), and with `ENABLE_DEBUG_ENDPOINT_AUTH` (default true) serves clusterz only
  to the system namespace or `DEBUG_ENDPOINT_AUTH_ALLOWED_NAMESPACES` (`pilot/pkg/xds/debug.go`
  `AuthorizeDebugRequest`, `pilot/pkg/features/pilot.go`). So the check runs in `istio-system` as its own
  service account, with a projected token, and needs no Kubernetes RBAC at all.
- `remote`: in each remote, a pod with a sidecar becomes ready: injected through the primary's webhook
  (15017) and configured by the primary's istiod over xDS (15012), both through its east-west gateway.
  The agent's readiness (`:15021/healthz/ready`) turns 200 only once Envoy has received config.
- `call`: per exported service, consumer and port, a pod with a sidecar in the consumer calls
  `<svc>.<ns>.svc.<exporter>.local:<port>`. Evidence: the name's resolution (DNS capture), Envoy's
  outbound cluster and TLS stats on the admin port, and Istio's standard metric
  `istio_requests_total{reporter="source"}` with its `response_flags` and `destination_principal`
  (the exporter's SPIFFE identity from mTLS) on the agent's `:15020/stats/prometheus`.

The decision (`judge`) is a table of rules read in order; the same table is rendered into each Job's
shell script, so the message `pulumi up` prints and the one tested here cannot differ.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from meshlib.plan.manifests import ISTIO_NAMESPACE, Manifest
from meshlib.plan.revisions import injection_labels
from meshlib.plan.topology import MeshPlan
from meshlib.plan.values import istiod_service_name
from meshlib.spec.models import MeshSpec

__all__ = [
    "CHECK_KINDS",
    "RULES",
    "VERIFY_NAMESPACE",
    "Check",
    "Rule",
    "Verdict",
    "checks",
    "clusterz_evidence",
    "metric_labels",
    "job",
    "judge",
    "namespace",
    "responder_manifests",
    "service_account",
]

VERIFY_NAMESPACE = "meshlib-verify"
"""Where the `call` and `remote` checks run (labelled for injection); `sync` runs in istio-system."""
ACCOUNT = "meshlib-verify"
RESPONDER_ACCOUNT = "meshlib-verify-responder"
RESPONDER_PORT = 8080
DEBUG_PORT = 15014
"""istiod's monitoring/debug port (istio-discovery chart `templates/service.yaml`, `http-monitoring`)."""
CHECK_KINDS = ("sync", "remote", "call")
Kind = Literal["sync", "remote", "call"]
Op = Literal["empty", "is", "not", "has", "lacks"]


@dataclass(frozen=True)
class Rule:
    """`field op value` on a check's evidence: the first rule that holds names the broken hop."""

    kind: Kind
    field: str
    op: Op
    value: str
    hop: str
    why: str
    """What it means, with `{placeholders}` filled from the check's facts."""

    def holds(self, evidence: Mapping[str, str]) -> bool:
        got = evidence.get(self.field, "")
        if self.op == "empty":
            return got == ""
        if self.op == "is":
            return got == self.value
        if self.op == "not":
            return got != self.value
        items = got.split(",")
        return (self.value in items) if self.op == "has" else not got.startswith(self.value)

    def shell(self) -> str:
        """The same test in POSIX sh, on the variable named like the field."""
        var = f'"${self.field}"'
        # A value naming a variable (`${peer}`) must expand: double quotes; a literal one: single quotes.
        value = f'"{self.value}"' if "${" in self.value else shlex.quote(self.value)
        if self.op == "empty":
            return f"[ -z {var} ]"
        if self.op == "is":
            return f"[ {var} = {value} ]"
        if self.op == "not":
            return f"[ {var} != {value} ]"
        if self.op == "has":
            return f'case ",${self.field}," in *,{self.value},*) true;; *) false;; esac'
        return f"case {var} in {value}*) false;; *) true;; esac"


# Envoy response flags: https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage
# (UH no healthy upstream, UF upstream connection failure, NR no route, URX retry limit exceeded), as
# Istio's `response_flags` metric label (istio.io/latest/docs/reference/config/metrics/).
RULES: tuple[Rule, ...] = (
    Rule("sync", "http", "empty", "", "control plane", "istiod ({istiod}:15014) did not answer /debug/clusterz"),
    Rule(
        "sync",
        "http",
        "is",
        "401",
        "control plane",
        "istiod refused the check's token (audience istio-ca) for /debug/clusterz",
    ),
    Rule(
        "sync",
        "http",
        "is",
        "403",
        "control plane",
        "istiod's debug endpoint auth refused namespace istio-system (ENABLE_DEBUG_ENDPOINT_AUTH, mesh rootNamespace)",
    ),
    Rule("sync", "http", "not", "200", "control plane", "/debug/clusterz answered HTTP {http}"),
    Rule(
        "sync",
        "status",
        "empty",
        "",
        "remote secret",
        "istiod lists no cluster {watched}: secret istio-remote-secret-{watched} missing or unreadable",
    ),
    Rule(
        "sync",
        "status",
        "is",
        "timeout",
        "remote secret",
        "istiod timed out syncing {watched} (syncStatus timeout): its API server is unreachable from {cluster}'s "
        "egress, or the reader token is refused",
    ),
    Rule("sync", "status", "is", "closed", "remote secret", "istiod closed cluster {watched} (syncStatus closed)"),
    Rule("sync", "status", "not", "synced", "remote secret", "cluster {watched} is still {status} after the wait"),
    Rule(
        "remote",
        "ready",
        "empty",
        "",
        "injection",
        "the check's pod has no sidecar: the injection webhook on {primary}'s istiod (15017 via its east-west "
        "gateway) was not called or failed",
    ),
    Rule(
        "remote",
        "ready",
        "not",
        "200",
        "xDS",
        "the sidecar never got config (readiness {ready}): {primary}'s istiod unreachable on 15012 through its "
        "east-west gateway, or {primary} does not watch {cluster}",
    ),
    Rule(
        "call",
        "dns",
        "empty",
        "",
        "DNS capture",
        "{host} did not resolve: the sidecar's DNS proxy (ISTIO_META_DNS_CAPTURE) has no ServiceEntry for it",
    ),
    Rule(
        "call",
        "route",
        "empty",
        "",
        "ServiceEntry",
        "Envoy has no cluster outbound|{port}||{host}: no ServiceEntry for port {port} in {config_cluster}",
    ),
    Rule("call", "flags", "has", "NR", "ServiceEntry", "no route to {host}:{port} (response flag NR)"),
    Rule(
        "call",
        "flags",
        "has",
        "UH",
        "remote endpoint",
        "no healthy endpoint for {host} (response flag UH): the ServiceEntry lists no address of {exporter}'s "
        "east-west gateway",
    ),
    Rule(
        "call",
        "connect_fail",
        "not",
        "0",
        "gateway",
        "TCP to {exporter}'s east-west gateway on 15443 failed ({connect_fail} connect failures, flags {flags}): "
        "load balancer, firewall or source ranges",
    ),
    Rule(
        "call",
        "verify_fail",
        "not",
        "0",
        "mTLS",
        "the peer's certificate did not verify ({verify_fail} failures): {exporter} does not share the root CA",
    ),
    Rule(
        "call",
        "tls_error",
        "not",
        "0",
        "SNI",
        "{exporter}'s gateway closed the TLS connection ({tls_error} errors, flags {flags}): no AUTO_PASSTHROUGH "
        "route for SNI {sni} (DestinationRule sni, cross-network-gateway hosts, or no such Service there: "
        "deploy it, or set `responder: true` on the service)",
    ),
    Rule("call", "flags", "has", "UF", "gateway", "upstream connection failure (response flag UF) to {exporter}"),
    Rule("call", "flags", "has", "URX", "gateway", "retries exhausted (response flag URX) towards {exporter}"),
    Rule("call", "curl", "not", "0", "remote endpoint", "the call failed (curl exit {curl}, HTTP {code})"),
    Rule(
        "call",
        "principal",
        "lacks",
        "{peer}",
        "mTLS",
        "the answer came from {principal!r}, not a workload of {namespace} in the mesh (expected {peer}...)",
    ),
    Rule("call", "code", "not", "200", "remote endpoint", "{exporter} answered HTTP {code} (flags {flags})"),
)


@dataclass(frozen=True)
class Verdict:
    """A check's outcome: `ok`, or the broken hop and a message naming who and what Istio showed."""

    ok: bool
    hop: str = ""
    message: str = ""


@dataclass(frozen=True)
class Check:
    """One check: where it runs, what it verifies (`facts`), and what reruns it (`inputs`)."""

    kind: Kind
    cluster: str
    """The cluster whose API runs the Job."""
    key: str
    """Stable, unique per cluster: the Pulumi resource name's tail."""
    facts: dict[str, str]
    """Names for the message, and the variables of the script."""
    watched: tuple[str, ...] = ()
    exporter: str = ""
    depends_on_clusters: tuple[str, ...] = field(default_factory=tuple)
    """Clusters whose mesh resources the check verifies (it runs after them)."""

    def subject(self) -> str:
        f = self.facts
        if self.kind == "call":
            return f"{f['cluster']} -> {f['host']}:{f['port']} (exported by {f['exporter']})"
        if self.kind == "sync":
            return f"istiod of {f['cluster']} watching {f['watched']}"
        return f"remote {f['cluster']} served by {f['primary']}"


def judge(check: Check, evidence: Mapping[str, str]) -> Verdict:
    """Decide a check from its recorded evidence (what the Job's script collects), by `RULES` in order."""
    facts = {**check.facts, **evidence}
    for watched in check.watched or ("",):
        scoped = dict(facts)
        if watched:
            scoped["watched"] = watched
            scoped["status"] = evidence.get(f"status_{watched}", "")
        for rule in (r for r in RULES if r.kind == check.kind):
            bound = Rule(rule.kind, rule.field, rule.op, rule.value.format(**scoped), rule.hop, rule.why)
            if bound.holds(scoped):
                why = rule.why.format(**{k: v or "-" for k, v in scoped.items()})
                return Verdict(False, rule.hop, f"{check.subject()}: {rule.hop}: {why}")
    return Verdict(True)


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:10]


def checks(plan: MeshPlan) -> list[Check]:
    """Every check the plan calls for, in a stable order; none when `mesh:verify.enabled` is false."""
    spec = plan.spec
    if not spec.verify.enabled:
        return []
    istiod = f"{istiod_service_name(spec)}.{ISTIO_NAMESPACE}.svc"
    found: list[Check] = []
    for cluster in plan.clusters:
        for watched in cluster.watches if cluster.is_primary else ():
            # One Job per watched cluster: adding a cluster adds checks and reruns none of the others.
            found.append(
                Check(
                    "sync",
                    cluster.name,
                    f"sync-{watched}",
                    {"cluster": cluster.name, "istiod": istiod, "watched": watched},
                    watched=(watched,),
                    depends_on_clusters=(cluster.name, watched),
                )
            )
        if not cluster.is_primary:
            found.append(
                Check(
                    "remote",
                    cluster.name,
                    "remote",
                    {"cluster": cluster.name, "primary": cluster.config_cluster},
                    depends_on_clusters=(cluster.name, cluster.config_cluster),
                )
            )
    services = {(s.name, s.namespace, s.cluster): s for s in spec.services}
    for holder in plan.clusters:
        for imported in holder.imports:
            service = services[(imported.name, imported.namespace, imported.exporter)]
            if not service.verify:
                continue
            for consumer in imported.consumers:
                for port in imported.ports:
                    found.append(
                        Check(
                            "call",
                            consumer,
                            f"call-{imported.name}-{imported.namespace}-{imported.exporter}-{port.number}",
                            {
                                "cluster": consumer,
                                "config_cluster": holder.name,
                                "exporter": imported.exporter,
                                "host": imported.host,
                                "port": str(port.number),
                                "sni": imported.sni(port.number),
                                "namespace": imported.namespace,
                                "peer": f"spiffe://{spec.trust_domain}/ns/{imported.namespace}/",
                            },
                            exporter=imported.exporter,
                            depends_on_clusters=(consumer, holder.name, imported.exporter),
                        )
                    )
    return found


def namespace(spec: MeshSpec) -> Manifest:
    """The namespace of the `call` and `remote` checks, labelled for injection."""
    labels = {**injection_labels(spec), "app.kubernetes.io/managed-by": "meshlib"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": VERIFY_NAMESPACE, "labels": labels}}


def service_account(namespace_name: str) -> Manifest:
    """The checks' own account: no Role, no RoleBinding (nothing of the Kubernetes API is read)."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": ACCOUNT, "namespace": namespace_name},
        "automountServiceAccountToken": False,
    }


def _script(check: Check) -> str:
    """The Job's POSIX sh: collect the evidence, judge it with `RULES`, exit 1 with the message on failure."""
    rules = [r for r in RULES if r.kind == check.kind]
    lines = ["set -u", *(f"{k}={shlex.quote(v)}" for k, v in sorted(check.facts.items()))]
    lines += _COLLECT[check.kind]
    judge_lines = []
    for rule in rules:
        why = _sh_text(rule.why)
        test = Rule(rule.kind, rule.field, rule.op, rule.value.replace("{", "${"), rule.hop, why).shell()
        judge_lines.append(f'if {test}; then fail "{_sh_text(rule.hop)}: {why}"; fi')
    subject = _sh_escape(check.subject())
    lines.append(f"fail() {{ printf '%s\\n' \"{subject}: $1\" | tee /dev/termination-log; {_QUIT} exit 1; }}")
    if check.kind == "sync":
        lines.append("for watched in $(echo \"$watched\" | tr , ' '); do")
        lines.append(
            '  status=$(echo "$body" | tr -d " \\n" | '
            'sed -n "s/.*{\\"id\\":\\"$watched\\"[^}]*\\"syncStatus\\":\\"\\([a-z]*\\)\\".*/\\1/p")'
        )
        lines += [f"  {line}" for line in judge_lines]
        lines.append("done")
    else:
        lines += judge_lines
    lines += [f"printf '%s\\n' \"{subject}: ok\"", _QUIT.rstrip(";")]
    return "\n".join(lines) + "\n"


def _sh_escape(text: str) -> str:
    """`text` made literal inside a double-quoted sh string."""
    return re.sub(r'([\\"`$])', r"\\\1", text)


def _sh_text(why: str) -> str:
    """A rule's `why` inside a double-quoted sh string, rendered as `judge()` renders it: `{field}` expands
    the variable, an empty one as `-`; `{field!r}` also in single quotes (Python's repr of a plain string)."""

    def var(m: re.Match[str]) -> str:
        return f"'${{{m[1]}:--}}'" if m[2] else f"${{{m[1]}:--}}"

    return re.sub(r"\{(\w+)(!r)?\}", var, _sh_escape(why))


_QUIT = "curl -fsS -X POST http://localhost:15020/quitquitquit >/dev/null 2>&1 || true;"
"""Stop the sidecar so the Job completes (Istio's documented way for Jobs: the agent's /quitquitquit)."""
_COLLECT: dict[str, list[str]] = {
    "sync": [
        "token=$(cat /var/run/secrets/tokens/istio-ca)",
        "attempt=0; body=''; http=''",
        "while [ $attempt -lt 30 ]; do",
        '  body=$(curl -sS --max-time 5 -H "Authorization: Bearer $token" "http://$istiod:15014/debug/clusterz" '
        "-w '\\n%{http_code}') || true",
        '  http=$(echo "$body" | tail -n1); body=$(echo "$body" | sed \'$d\')',
        "  [ \"$http\" = 000 ] && http=''",
        '  pending=0; for w in $(echo "$watched" | tr , \' \'); do echo "$body" | tr -d " \\n" | '
        'grep -q "\\"id\\":\\"$w\\"[^}]*\\"syncStatus\\":\\"synced\\"" || pending=1; done',
        '  [ "$http" = 200 ] && [ $pending = 0 ] && break',
        "  attempt=$((attempt + 1)); sleep 10",
        "done",
        'echo "$body"',
    ],
    "remote": [
        "ready=''; attempt=0",
        "while [ $attempt -lt 30 ]; do",
        "  ready=$(curl -s -o /dev/null --max-time 3 -w '%{http_code}' http://localhost:15021/healthz/ready) || true",
        "  [ \"$ready\" = 000 ] && ready=''",
        '  [ "$ready" = 200 ] && break',
        "  attempt=$((attempt + 1)); sleep 5",
        "done",
    ],
    "call": [
        "attempt=0; curl=1; code=''",
        "while [ $attempt -lt 12 ]; do",
        "  code=$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' \"http://$host:$port/\") && curl=0 || curl=$?",
        '  [ "$curl" = 0 ] && [ "$code" = 200 ] && break',
        "  attempt=$((attempt + 1)); sleep 5",
        "done",
        'dns=$(getent hosts "$host" 2>/dev/null | cut -d" " -f1 | head -n1) || true',
        'route=$(curl -s http://localhost:15000/clusters | grep -m1 -F "outbound|$port||$host::") || true',
        'stats=$(curl -s "http://localhost:15000/stats?filter=outbound\\|$port\\|\\|$host")',
        'stat() { echo "$stats" | grep -F ".$1: " | sed "s/.*: //" | head -n1; }',
        "connect_fail=$(stat upstream_cx_connect_fail); connect_fail=${connect_fail:-0}",
        "verify_fail=$(stat ssl.fail_verify_error); verify_fail=${verify_fail:-0}",
        "tls_error=$(stat ssl.connection_error); tls_error=${tls_error:-0}",
        'metric=$(curl -s http://localhost:15020/stats/prometheus | grep "^istio_requests_total{" | '
        'grep -F \'reporter="source"\' | grep -F "destination_service=\\"$host\\"" | tail -n1)',
        'label() { echo "$metric" | sed -n "s/.*[{,]$1=\\"\\([^\\"]*\\)\\".*/\\1/p"; }',
        "flags=$(label response_flags); [ \"$flags\" = - ] && flags=''",
        "principal=$(label destination_principal)",
        'echo "dns=$dns route=${route:+present} code=$code curl=$curl flags=$flags principal=$principal"',
    ],
}


def job(spec: MeshSpec, check: Check, env: Mapping[str, Any] | None = None) -> Manifest:
    """The Job of `check`, named by a hash of what it verifies: a change replaces it (Jobs are immutable).

    `env` adds values known only at deploy time (the exporter's addresses), which change the pod
    template and so replace the Job as well.
    """
    verify = spec.verify
    run_in = ISTIO_NAMESPACE if check.kind == "sync" else VERIFY_NAMESPACE
    script = _script(check)
    name = f"meshlib-verify-{check.kind}-{_hash(check.kind, check.facts, verify.generation, verify.client_image)}"
    annotations = {"proxy.istio.io/config": json.dumps(_PROXY_CONFIG, sort_keys=True)}
    labels = {"app.kubernetes.io/name": "meshlib-verify", "meshlib.io/check": check.kind}
    if check.kind == "sync":
        labels["sidecar.istio.io/inject"] = "false"
        annotations = {}
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if check.kind == "sync":
        volumes = [
            {
                "name": "istio-ca-token",
                "projected": {
                    "sources": [
                        {
                            "serviceAccountToken": {
                                "audience": "istio-ca",
                                "expirationSeconds": 3600,
                                "path": "istio-ca",
                            }
                        }
                    ]
                },
            }
        ]
        mounts = [{"name": "istio-ca-token", "mountPath": "/var/run/secrets/tokens", "readOnly": True}]
    container: dict[str, Any] = {
        "name": "check",
        "image": verify.client_image,
        "command": ["/bin/sh", "-c", script],
        "env": [{"name": key, "value": value} for key, value in sorted((env or {}).items())],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
        "securityContext": _RESTRICTED,
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    if not container["env"]:
        del container["env"]
    if mounts:
        container["volumeMounts"] = mounts
    pod_spec: dict[str, Any] = {
        "serviceAccountName": ACCOUNT,
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "securityContext": {"runAsNonRoot": True, "runAsUser": 100, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
    }
    if volumes:
        pod_spec["volumes"] = volumes
    template_metadata: dict[str, Any] = {"labels": labels}
    if annotations:
        template_metadata["annotations"] = annotations
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": run_in, "labels": dict(labels)},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": 540,
            "template": {"metadata": template_metadata, "spec": pod_spec},
        },
    }


_RESTRICTED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True}
_PROXY_CONFIG = {
    # Start the app only once the proxy is ready (ProxyConfig.holdApplicationUntilProxyStarts).
    "holdApplicationUntilProxyStarts": True,
    # Keep Envoy's outbound TCP/TLS stats, which Istio's default stats matcher drops (ProxyConfig.proxyStatsMatcher).
    "proxyStatsMatcher": {"inclusionRegexps": [r"cluster\.outbound\|.*\.(upstream_cx_connect_fail|ssl\..*)"]},
}


def responder_manifests(
    spec: MeshSpec, name: str, namespace_name: str, ports: Sequence[tuple[int, str]]
) -> list[Manifest]:
    """A tiny responder serving Service `name` in the exporter (agnhost netexec answers 200 on `/`)."""
    selector = {"app.kubernetes.io/name": "meshlib-verify-responder", "meshlib.io/service": name}
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": f"{name}-{RESPONDER_ACCOUNT}", "namespace": namespace_name},
        "automountServiceAccountToken": False,
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{name}-meshlib-responder", "namespace": namespace_name, "labels": dict(selector)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(selector)},
            "template": {
                "metadata": {"labels": {**selector, **injection_labels(spec)}},
                "spec": {
                    "serviceAccountName": f"{name}-{RESPONDER_ACCOUNT}",
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "responder",
                            "image": spec.verify.responder_image,
                            "args": ["netexec", f"--http-port={RESPONDER_PORT}"],
                            "ports": [{"containerPort": RESPONDER_PORT, "name": "http"}],
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
                            "securityContext": _RESTRICTED,
                        }
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace_name, "labels": dict(selector)},
        "spec": {
            "selector": dict(selector),
            "ports": [{"name": port_name, "port": port, "targetPort": RESPONDER_PORT} for port, port_name in ports],
        },
    }
    return [account, deployment, service]


def clusterz_evidence(http: str, body: str) -> dict[str, str]:
    """Evidence of a `sync` check from istiod's `/debug/clusterz` answer (`[{"id", "secretName", "syncStatus"}]`)."""
    evidence = {"http": http}
    if http == "200":
        for entry in json.loads(body or "[]"):
            evidence[f"status_{entry['id']}"] = entry.get("syncStatus", "")
    return evidence


def metric_labels(line: str) -> dict[str, str]:
    """The labels of one Prometheus sample line, e.g. `istio_requests_total{response_flags="UF",...} 1`."""
    inside = line[line.index("{") + 1 : line.rindex("}")] if "{" in line else ""
    labels: dict[str, str] = {}
    for part in inside.split('",'):
        if "=" in part:
            key, _, value = part.partition("=")
            labels[key.strip()] = value.strip().strip('"')
    return labels
