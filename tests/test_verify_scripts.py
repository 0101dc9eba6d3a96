"""The checks' shell scripts, run: each Job's POSIX sh reaches the same verdict and message as `judge()`.

Each recorded case (tests/fixtures/verify) is replayed through the script of its check kind: the script
runs under /bin/sh with stub `curl`, `getent` and `sleep` first on PATH, the stubs answering with the
case's evidence in the formats the real endpoints use (istiod's /debug/clusterz, the agent's readiness
and Prometheus stats, Envoy's admin /clusters and /stats). The script must exit as `judge()` decides,
write `judge()`'s message to the termination log, or print `<subject>: ok`, and stop the sidecar.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from meshlib.plan.verify import Check, clusterz_evidence, job, judge
from tests.test_verify import CASES, base, evidence, sample_check, spec_of

SH = Path("/bin/sh")
TOOLS = ("cat", "cut", "grep", "head", "sed", "tail", "tee", "tr")
pytestmark = pytest.mark.skipif(
    not SH.exists() or not all(shutil.which(tool) for tool in TOOLS),
    reason="needs /bin/sh and the POSIX tools the checks' scripts use",
)

TERMINATION_LOG = "/dev/termination-log"
TOKEN_PATH = "/var/run/secrets/tokens/istio-ca"
TOKEN = "eyJ.istio-ca.token"

# Cases beyond the recorded ones, in the same shape, for rules and renderings no recording reaches:
# an empty value renders as `-` in `judge()`'s message, `{principal!r}` renders quoted.
EXTRA: dict[str, dict[str, Any]] = {
    "sync-unanswered": {"check": "sync", "raw": {"http": "", "body": ""}},
    "sync-refused-token": {"check": "sync", "raw": {"http": "401", "body": "unauthorized"}},
    "sync-server-error": {"check": "sync", "raw": {"http": "500", "body": "oops"}},
    "sync-closed": {
        "check": "sync",
        "raw": {
            "http": "200",
            "body": '[\n  {\n    "id": "central",\n    "secretName": "istio-system/istio-remote-secret-central",\n'
            '    "syncStatus": "closed"\n  }\n]',
        },
    },
    "sync-syncing": {
        "check": "sync",
        "raw": {
            "http": "200",
            "body": '[{"id": "central-2", "secretName": "", "syncStatus": "synced"}, '
            '{"id": "central", "secretName": "istio-system/istio-remote-secret-central", "syncStatus": "syncing"}]',
        },
    },
    "remote-ok": {"check": "remote", "raw": {"ready": "200"}},
    "call-connect-fail-no-metric": {
        "check": "call",
        "raw": {
            "code": "000",
            "connect_fail": "5",
            "curl": "56",
            "dns": "240.240.0.3",
            "metric": "",
            "route": "present",
            "tls_error": "0",
            "verify_fail": "0",
        },
    },
    "call-refused-no-flags": {
        "check": "call",
        "raw": {
            "code": "000",
            "connect_fail": "0",
            "curl": "7",
            "dns": "240.240.0.3",
            "metric": "",
            "route": "present",
            "tls_error": "0",
            "verify_fail": "0",
        },
    },
    "call-no-principal": {
        "check": "call",
        "raw": {
            "code": "200",
            "connect_fail": "0",
            "curl": "0",
            "dns": "240.240.0.3",
            "metric": 'istio_requests_total{reporter="source",destination_service="reviews.default.svc.central.local",'
            'response_code="200",response_flags="-"} 1',
            "route": "present",
            "tls_error": "0",
            "verify_fail": "0",
        },
    },
    "call-answered-404": {
        "check": "call",
        "raw": {
            "code": "404",
            "connect_fail": "0",
            "curl": "0",
            "dns": "240.240.0.3",
            "metric": 'istio_requests_total{response_code="404",reporter="source",'
            'destination_principal="spiffe://cluster.local/ns/default/sa/reviews",'
            'destination_service="reviews.default.svc.central.local",response_flags="-"} 2',
            "route": "present",
            "tls_error": "0",
            "verify_fail": "0",
        },
    },
}


def all_cases() -> list[Any]:
    recorded = [pytest.param(json.loads(p.read_text()), id=p.stem) for p in CASES]
    return recorded + [pytest.param(case, id=name) for name, case in EXTRA.items()]


def script_of(check: Check, workdir: Path) -> str:
    """The Job's script, its two absolute paths moved into `workdir`."""
    manifest = job(spec_of(base()), check)
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:2] == ["/bin/sh", "-c"]
    script: str = container["command"][2]
    assert TERMINATION_LOG in script
    script = script.replace(TERMINATION_LOG, str(workdir / "termination-log"))
    if check.kind == "sync":
        assert TOKEN_PATH in script
        (workdir / "istio-ca").write_text(TOKEN)
        script = script.replace(TOKEN_PATH, str(workdir / "istio-ca"))
    return script


def envoy_clusters(facts: dict[str, str], present: bool) -> str:
    """Envoy admin `/clusters` text: `<cluster>::<endpoint>::<stat>::<value>` lines, with neighbours."""
    host, port = facts["host"], facts["port"]
    local = host.replace(f".svc.{facts['exporter']}.local", ".svc.cluster.local")
    names = [f"outbound|{port}||{local}", f"outbound|1{port}||{host}", "BlackHoleCluster"]
    if present:
        names.insert(1, f"outbound|{port}||{host}")
    lines = []
    for name in names:
        lines.append(f"{name}::observability_name::{name}")
        lines.append(f"{name}::default_priority::max_connections::4294967295")
        if name.startswith("outbound"):
            lines += [f"{name}::240.240.0.9:15443::cx_active::0", f"{name}::240.240.0.9:15443::health_flags::healthy"]
    return "\n".join(lines) + "\n"


def envoy_stats(facts: dict[str, str], raw: dict[str, str]) -> str:
    """Envoy admin `/stats` text for the call's cluster (what the filter selects): `name: value` lines."""
    if raw["route"] != "present":
        return ""
    prefix = f"cluster.outbound|{facts['port']}||{facts['host']}"
    values = {
        "ssl.connection_error": raw["tls_error"],
        "ssl.fail_verify_error": raw["verify_fail"],
        "ssl.fail_verify_no_cert": "0",
        "ssl.fail_verify_san": "0",
        "upstream_cx_connect_attempts_exceeded": "0",
        "upstream_cx_connect_fail": raw["connect_fail"],
        "upstream_cx_connect_timeout": "0",
    }
    return "".join(f"{prefix}.{name}: {value}\n" for name, value in sorted(values.items()))


def prometheus(facts: dict[str, str], metric: str) -> str:
    """The agent's `:15020/stats/prometheus`: the recorded sample among others of the same family."""
    local = facts["host"].replace(f".svc.{facts['exporter']}.local", ".svc.cluster.local")
    lines = [
        "# HELP istio_requests_total Total requests.",
        "# TYPE istio_requests_total counter",
        f'istio_requests_total{{reporter="source",destination_principal="spiffe://cluster.local/ns/x/sa/y",'
        f'destination_service="{local}",response_code="200",response_flags="-"}} 7',
    ]
    if metric:
        lines.append(metric)
    lines += [
        f'istio_requests_total{{reporter="destination",destination_principal="spiffe://cluster.local/ns/x/sa/y",'
        f'destination_service="{local}",response_code="200",response_flags="-"}} 7',
        "# TYPE istio_request_duration_milliseconds histogram",
        f'istio_request_duration_milliseconds_bucket{{reporter="source",destination_service="{facts["host"]}",'
        f'response_flags="XX",le="0.5"}} 0',
    ]
    return "\n".join(lines) + "\n"


CURL_STUB = r"""#!/bin/sh
# curl, answering with the recorded evidence of one case (as curl 8 prints -w and exits).
{values}
printf '%s\n' "$*" >> "$LOG"
out=''; fmt=''; url=''; method=GET; header=''
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift ;;
    -w) fmt=$2; shift ;;
    -H) header=$2; shift ;;
    -X) method=$2; shift ;;
    --max-time) shift ;;
    -*) ;;
    *) url=$1 ;;
  esac
  shift
done
answer() {  # body, HTTP code, exit status
  if [ -n "$out" ]; then printf '%s' "$1" > "$out"; else printf '%s' "$1"; fi
  code='%{http_code}'
  case $fmt in
    *"$code"*) before=${fmt%%"$code"*}; after=${fmt#*"$code"}; printf '%b%s%b' "$before" "$2" "$after" ;;
    *) printf '%b' "$fmt" ;;
  esac
  exit "$3"
}
case $url in
  "http://$ISTIOD:15014/debug/clusterz")
    [ -n "$CLUSTERZ_HTTP" ] || answer '' 000 28
    [ "$header" = "Authorization: Bearer $TOKEN" ] || answer 'unauthenticated' 401 0
    answer "$CLUSTERZ_BODY" "$CLUSTERZ_HTTP" 0 ;;
  http://localhost:15021/healthz/ready)
    [ -n "$READY" ] || answer '' 000 7
    answer '' "$READY" 0 ;;
  "$CALL_URL")
    answer '' "$CALL_CODE" "$CALL_EXIT" ;;
  http://localhost:15000/clusters)
    [ "$SIDECAR" = yes ] || answer '' 000 7
    answer "$CLUSTERS" 200 0 ;;
  "http://localhost:15000/stats?filter=$STATS_FILTER")
    [ "$SIDECAR" = yes ] || answer '' 000 7
    answer "$STATS" 200 0 ;;
  http://localhost:15020/stats/prometheus)
    [ "$SIDECAR" = yes ] || answer '' 000 7
    answer "$PROMETHEUS" 200 0 ;;
  http://localhost:15020/quitquitquit)
    [ "$method" = POST ] || answer 'method not allowed' 405 22
    [ "$SIDECAR" = yes ] || answer '' 000 7
    answer 'OK' 200 0 ;;
esac
echo "UNEXPECTED $url" >> "$LOG"
answer '' 000 6
"""

GETENT_STUB = r"""#!/bin/sh
# getent hosts, answering like glibc (address padded to 15, then the name) or not at all (exit 2).
[ "$1" = hosts ] && [ "$2" = {host} ] && [ -n {dns} ] || exit 2
printf '%-15s %s\n' {dns} "$2"
"""


def stubs(check: Check, case: dict[str, Any], workdir: Path) -> tuple[Path, Path]:
    """`curl`, `getent` and a no-op `sleep` for this case, in `workdir/bin`; and curl's call log."""
    raw: dict[str, str] = case["raw"]
    facts = check.facts
    values: dict[str, str] = {
        "LOG": str(workdir / "curl.log"),
        "TOKEN": TOKEN,
        "SIDECAR": "yes",
        "ISTIOD": facts.get("istiod", ""),
        "CLUSTERZ_HTTP": "",
        "CLUSTERZ_BODY": "",
        "READY": "",
        "CALL_URL": "",
        "CALL_CODE": "",
        "CALL_EXIT": "",
        "CLUSTERS": "",
        "STATS_FILTER": "",
        "STATS": "",
        "PROMETHEUS": "",
    }
    if check.kind == "sync":
        values.update(CLUSTERZ_HTTP=raw["http"], CLUSTERZ_BODY=raw["body"], SIDECAR="no")
    elif check.kind == "remote":
        values.update(READY=raw["ready"], SIDECAR="yes" if raw["ready"] else "no")
    else:
        values.update(
            CALL_URL=f"http://{facts['host']}:{facts['port']}/",
            CALL_CODE=raw["code"],
            CALL_EXIT=raw["curl"],
            CLUSTERS=envoy_clusters(facts, raw["route"] == "present"),
            STATS_FILTER=f"outbound\\|{facts['port']}\\|\\|{facts['host']}",
            STATS=envoy_stats(facts, raw),
            PROMETHEUS=prometheus(facts, raw["metric"]),
        )
    bin_dir = workdir / "bin"
    bin_dir.mkdir()
    assignments = "\n".join(f"{key}={shlex.quote(value)}" for key, value in values.items())
    getent = GETENT_STUB.replace("{host}", shlex.quote(facts.get("host", ""))).replace(
        "{dns}", shlex.quote(raw.get("dns", ""))
    )
    for name, text in {
        "curl": CURL_STUB.replace("{values}", assignments),
        "getent": getent,
        "sleep": "#!/bin/sh\nexit 0\n",
    }.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir, workdir / "curl.log"


def expected(case: dict[str, Any], check: Check) -> tuple[dict[str, str], Any]:
    found = evidence(case)
    return found, judge(check, found)


@pytest.mark.parametrize("case", all_cases())
def test_the_script_reaches_judges_verdict(case: dict[str, Any], tmp_path: Path) -> None:
    check = sample_check(case["check"])
    found, verdict = expected(case, check)
    if "hop" in case:
        assert verdict.hop == case["hop"]
    script = script_of(check, tmp_path)
    bin_dir, log = stubs(check, case, tmp_path)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}", "LC_ALL": "C"}
    run = subprocess.run([str(SH), "-c", script], env=env, capture_output=True, text=True, timeout=20, cwd=tmp_path)

    calls = log.read_text().splitlines()
    assert not [c for c in calls if c.startswith("UNEXPECTED")], calls
    assert run.stderr == "", run.stderr
    assert sum("quitquitquit" in c for c in calls) == 1, "the script stops the sidecar exactly once"
    termination = tmp_path / "termination-log"
    if verdict.ok:
        assert run.returncode == 0, run.stdout
        assert run.stdout.splitlines()[-1] == f"{check.subject()}: ok"
        assert not termination.exists()
    else:
        assert run.returncode == 1, run.stdout
        assert termination.read_text() == verdict.message + "\n"
        assert run.stdout.splitlines()[-1] == verdict.message
    if check.kind == "call":
        # The evidence line the script prints is the evidence `judge()` was given.
        line = next(x for x in run.stdout.splitlines() if x.startswith("dns="))
        printed = dict(part.split("=", 1) for part in line.split(" "))
        assert printed == {k: found.get(k, "") for k in ("dns", "route", "code", "curl", "flags", "principal")}


def test_the_sync_script_reads_the_status_of_its_watched_cluster_only(tmp_path: Path) -> None:
    """Another cluster's `synced` (listed first or last) does not stand in for the watched one's."""
    check = sample_check("sync")
    body = json.dumps(
        [
            {"id": "central", "secretName": "istio-system/istio-remote-secret-central", "syncStatus": "timeout"},
            {"id": "central-b", "secretName": "istio-system/istio-remote-secret-central-b", "syncStatus": "synced"},
        ],
        indent=2,
    )
    case = {"check": "sync", "raw": {"http": "200", "body": body}}
    verdict = judge(check, clusterz_evidence("200", body))
    assert verdict.hop == "remote secret"
    script = script_of(check, tmp_path)
    bin_dir, _ = stubs(check, case, tmp_path)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}", "LC_ALL": "C"}
    run = subprocess.run([str(SH), "-c", script], env=env, capture_output=True, text=True, timeout=20, cwd=tmp_path)
    assert run.returncode == 1
    assert (tmp_path / "termination-log").read_text() == verdict.message + "\n"
