"""Day-2 Istio: revisions, tags, canary upgrades as config changes, namespaces and ingress gateways.

The upgrade is run step by step on the mock engine; each step is compared with the one before
(`meshlib.offline.replacements.changes`): no cluster, trust or remote secret is ever replaced.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from meshlib.offline.engine import unwrap
from meshlib.offline.render import release_values, revisions_text
from meshlib.offline.replacements import Change, changes
from meshlib.plan import plan_mesh
from meshlib.plan.manifests import istiod_virtual_services
from meshlib.plan.revisions import plan_revisions, tag_webhook
from meshlib.plan.values import base_values, gateway_values, istiod_values
from meshlib.spec import ConfigError, parse_spec
from tests.conftest import ROOT
from tests.mocks import Run
from tests.test_failure import run_config
from tests.test_lifecycle import STATEFUL, base, primary_remote
from tests.validators import validate_core

OLD, NEW = "1-29-6", "1-30-3"
TAG_WEBHOOK = "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration"
RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"


def with_istio(config: dict[str, Any], **istio: Any) -> dict[str, Any]:
    config = copy.deepcopy(config)
    config["mesh:istio"] = istio
    config["mesh:namespaces"] = [{"name": "shop", "tag": "prod"}, {"name": "legacy"}]
    return config


UPGRADE = sorted((ROOT / "examples" / "upgrade").glob("*.yaml"))
"""docs/upgrades.md's steps, from 1.29.6 to 1.30.3: `--config-file` overlays of a stack."""


def upgrade_steps(config: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """`config` at each step of the documented upgrade."""
    return [
        (path.stem.split("-", 1)[1].replace("-", " "), {**config, **yaml.safe_load(path.read_text())})
        for path in UPGRADE
    ]


def spec_of(config: dict[str, Any]) -> Any:
    return parse_spec({key.removeprefix("mesh:"): value for key, value in config.items()}, "offline")


def lost(result: dict[str, Change]) -> list[str]:
    """Replacements or deletions of what holds state or wires the mesh: clusters, trust, remote secrets."""
    return sorted(
        f"{c.action} {c.name}"
        for c in result.values()
        if c.action in ("replace", "delete") and (c.type in STATEFUL or (c.type == SECRET and "-watches-" in c.name))
    )


def acted(result: dict[str, Change], action: str, type_: str) -> list[str]:
    return sorted(c.name for c in result.values() if c.action == action and c.type == type_)


def step_changes(runs: list[tuple[str, Run]]) -> dict[str, dict[str, Change]]:
    """Per step, what deploying it over the step before does."""
    return {step: changes(old.resources, new.resources) for (_, old), (step, new) in zip(runs, runs[1:], strict=False)}


@pytest.fixture(scope="module", params=[base, primary_remote], ids=["multi-primary", "primary-remote"])
def upgrade(request: pytest.FixtureRequest) -> list[tuple[str, Run]]:
    return [(step, run_config(config)) for step, config in upgrade_steps(request.param())]


def test_no_upgrade_step_replaces_a_cluster_the_trust_or_a_remote_secret(upgrade: list[tuple[str, Run]]) -> None:
    for step, result in step_changes(upgrade).items():
        assert lost(result) == [], step


def test_the_downgrade_is_the_same_steps_in_reverse(upgrade: list[tuple[str, Run]]) -> None:
    for step, result in step_changes(upgrade[::-1]).items():
        assert lost(result) == [], f"back to {step}"


def test_each_step_does_exactly_its_own_change(upgrade: list[tuple[str, Run]]) -> None:
    steps = step_changes(upgrade)

    added = steps["add the canary"]
    assert all(name.endswith(f"-istiod-{NEW}") for name in acted(added, "create", RELEASE))
    assert acted(added, "create", RELEASE)  # one per cluster
    assert any(name.endswith("-tag-canary") for name in acted(added, "create", TAG_WEBHOOK))
    assert not acted(added, "replace", RELEASE) and not acted(added, "delete", RELEASE)
    # The CRDs go first, at the newest version; the gateways stay where they are.
    assert all(name.endswith("-base") for name in acted(added, "update", RELEASE) if "eastwest" not in name)
    assert not [name for name in acted(added, "update", RELEASE) if "eastwest" in name]

    moved = steps["move the tags"]
    assert acted(moved, "create", TAG_WEBHOOK) == [] and acted(moved, "replace", TAG_WEBHOOK) == []
    assert any(name.endswith("-tag-prod") for name in acted(moved, "update", TAG_WEBHOOK))
    assert not [name for name in acted(moved, "update", RELEASE) if "eastwest" in name]

    gateways = steps["move the gateways"]
    assert acted(gateways, "update", RELEASE) and all("eastwest" in n for n in acted(gateways, "update", RELEASE))
    assert acted(gateways, "replace", RELEASE) == []

    removed = steps["remove the old revision"]
    assert acted(removed, "delete", RELEASE) and all(
        n.endswith(f"-istiod-{OLD}") for n in acted(removed, "delete", RELEASE)
    )
    # The `default` tag, now implied by the only revision, stays as it was.
    assert any(n.endswith("-tag-default") for n in acted(removed, "same", TAG_WEBHOOK))
    assert acted(removed, "delete", TAG_WEBHOOK) == []


def test_a_remote_follows_its_primarys_revisions_through_the_upgrade() -> None:
    _, config = upgrade_steps(primary_remote())[1]
    spec = spec_of(config)
    spoke = plan_mesh(spec).cluster("spoke")
    for revision in plan_revisions(spec).revisions:
        values = istiod_values(spec, spoke, "192.0.2.1", revision=revision)
        assert values["revision"] == revision.name and values["profile"] == "remote"
    # Several istiods behind one gateway: each revision's routes match its own Service name as SNI.
    routes = {vs["metadata"]["name"]: vs["spec"]["tls"] for vs in istiod_virtual_services(spec)}
    assert set(routes) == {f"istiod-vs-{OLD}", f"istiod-vs-{NEW}"}
    assert routes[f"istiod-vs-{NEW}"][0]["match"][0]["sniHosts"][0] == f"istiod-{NEW}.istio-system.svc"
    assert routes[f"istiod-vs-{NEW}"][1]["route"][0]["destination"] == {
        "host": f"istiod-{NEW}.istio-system.svc.cluster.local",
        "port": {"number": 443},
    }


def test_a_mesh_of_one_named_revision_keeps_its_istiod_when_it_lists_revisions() -> None:
    old = copy.deepcopy(base())
    old["mesh:istio"] = {"version": "1.29.6", "revision": OLD}
    new = with_istio(base(), revisions=[{"name": OLD, "version": "1.29.6"}, {"name": NEW, "version": "1.30.3"}])
    new["mesh:istio"].update(tags={"default": OLD}, gatewayRevision=OLD)
    del new["mesh:namespaces"]
    result = changes(run_config(old).resources, run_config(new).resources)
    assert acted(result, "delete", RELEASE) == [] and acted(result, "replace", RELEASE) == []
    istiods = [c for c in result.values() if c.name.endswith(f"-istiod-{OLD}")]
    assert istiods and all(c.action == "same" for c in istiods)  # the alias carries the old name over


def test_a_default_install_takes_a_canary_beside_it_and_hands_over_the_default() -> None:
    plain = copy.deepcopy(base())
    plain["mesh:istio"] = {"version": "1.29.6"}
    canary = with_istio(
        base(),
        revisions=[{"name": "default", "version": "1.29.6"}, {"name": NEW, "version": "1.30.3"}],
        tags={"prod": NEW},
        gatewayRevision="default",
    )
    done = with_istio(base(), revisions=[{"name": NEW, "version": "1.30.3"}], tags={"prod": NEW})
    first = changes(run_config(plain).resources, run_config(canary).resources)
    assert acted(first, "delete", RELEASE) == [] and acted(first, "replace", RELEASE) == []
    last = changes(run_config(canary).resources, run_config(done).resources)
    assert all(n.endswith("-istiod") for n in acted(last, "delete", RELEASE))
    assert any(n.endswith("-tag-default") for n in acted(last, "create", TAG_WEBHOOK))
    assert lost(last) == []


# -- what each revision and tag installs -------------------------------------------------------------


def test_the_canary_step_installs_what_istio_needs() -> None:
    _, config = upgrade_steps(base())[1]
    spec = spec_of(config)
    east = plan_mesh(spec).cluster("east")
    revisions = plan_revisions(spec)
    assert base_values(spec, east)["defaultRevision"] == OLD  # the default validator calls the stable one
    assert revisions.newest.version == "1.30.3"
    assert gateway_values(spec, east)["revision"] == OLD
    # 1.29's charts have no reader switch (meshlib's reader instead of Istio's needs 1.30)
    assert "enableReaderRBAC" not in istiod_values(spec, east, revision=revisions.revision(OLD))["global"]
    assert istiod_values(spec, east, revision=revisions.revision(NEW))["global"]["enableReaderRBAC"] is False


def test_a_tag_webhook_is_what_the_chart_renders_for_it() -> None:
    _, config = upgrade_steps(primary_remote())[1]
    spec = spec_of(config)
    plan, revisions = plan_mesh(spec), plan_revisions(spec)
    prod = tag_webhook(revisions, "prod", plan.cluster("hub"))
    validate_core(prod)
    assert prod["metadata"]["labels"]["istio.io/rev"] == OLD  # istiod of that revision patches its caBundle
    assert [w["name"] for w in prod["webhooks"]] == [
        "rev.namespace.sidecar-injector.istio.io",
        "rev.object.sidecar-injector.istio.io",
    ]
    assert prod["webhooks"][0]["clientConfig"]["service"] == {
        "name": f"istiod-{OLD}",
        "namespace": "istio-system",
        "path": "/inject",
        "port": 443,
    }
    default = tag_webhook(revisions, "default", plan.cluster("spoke"))
    validate_core(default)
    selectors = [w["namespaceSelector"]["matchExpressions"] for w in default["webhooks"]]
    assert {"key": "istio-injection", "operator": "In", "values": ["enabled"]} in selectors[2]
    # A remote's injector is its primary's istiod, reached through the remote's own `istiod-<rev>` Service.
    assert default["webhooks"][0]["clientConfig"]["service"]["path"] == "/inject/cluster/spoke/net/spoke"
    url = tag_webhook(revisions, "default", plan.cluster("spoke"), "https://hub.example.com:15017/inject")
    assert all(w["clientConfig"] == {"url": "https://hub.example.com:15017/inject"} for w in url["webhooks"])


def test_a_named_revision_alone_still_serves_istio_injection_enabled() -> None:
    spec = spec_of({**base(), "mesh:istio": {"revision": "stable"}})
    assert plan_revisions(spec).tags == {"default": "stable"}
    run = run_config({**base(), "mesh:istio": {"revision": "stable"}})
    webhooks = [r for r in run.resources if r.type == TAG_WEBHOOK]
    assert len(webhooks) == 3 and all(
        unwrap(w.inputs)["metadata"]["name"] == "istio-revision-tag-default" for w in webhooks
    )


def test_application_namespaces_follow_tags_on_every_cluster() -> None:
    _, config = upgrade_steps(base())[1]
    run = run_config(config)
    namespaces = {
        (r.name, unwrap(r.inputs)["metadata"]["name"]): unwrap(r.inputs)["metadata"]["labels"]
        for r in run.resources
        if r.type == "kubernetes:core/v1:Namespace" and "-apps-" in r.name
    }
    assert {name for _, name in namespaces} == {"shop", "legacy"}
    assert len(namespaces) == 6
    assert {labels["istio.io/rev"] for (_, name), labels in namespaces.items() if name == "shop"} == {"prod"}
    assert {labels["istio.io/rev"] for (_, name), labels in namespaces.items() if name == "legacy"} == {"default"}
    shop = next(r for r in run.resources if r.name.endswith("east-apps-namespace-shop"))
    prod = next(r for r in run.resources if r.name.endswith("east-istio-tag-prod"))
    assert prod.urn in shop.dependencies  # the tag's webhook first: no pod of it starts without a sidecar


def test_an_ingress_gateway_is_ha_on_the_gateway_revision_with_the_clouds_load_balancer() -> None:
    config = with_istio(base(), version="1.30.3", tags={"prod": "default"})
    config["mesh:clusters"][0]["ingressGateway"] = {"internal": True, "annotations": {"team": "web"}}
    config["mesh:clusters"][2]["ingressGateway"] = {}
    run = run_config(config)
    releases = {r.name: unwrap(r.inputs) for r in run.resources if r.type == RELEASE and r.name.endswith("-ingress")}
    assert set(releases) == {"mesh1-east-apps-ingress", "mesh1-central-apps-ingress"}
    east = releases["mesh1-east-apps-ingress"]["values"]
    lb = "service.beta.kubernetes.io/aws-load-balancer"
    assert east["service"]["annotations"][f"{lb}-scheme"] == "internal"
    assert east["service"]["annotations"]["team"] == "web"
    assert east["replicaCount"] == 2 and east["podDisruptionBudget"] == {"minAvailable": 1}
    assert east["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"] == {"istio": "ingressgateway"}
    assert "service" not in releases["mesh1-central-apps-ingress"]["values"]  # GKE's external LB by default


def test_overrides_reach_the_releases_merged_over_meshlibs_values() -> None:
    config = with_istio(base(), version="1.30.3", values={"istiod": {"env": {"PILOT_X": "1"}}})
    del config["mesh:namespaces"]
    config["mesh:clusters"][0]["istioValues"] = {"gateway": {"replicaCount": 3}}
    run = run_config(config)
    releases = {r.name: unwrap(r.inputs)["values"] for r in run.resources if r.type == RELEASE}
    assert releases["mesh1-east-istio-istiod"]["env"] == {"PILOT_X": "1"}
    assert releases["mesh1-east-istio-istiod"]["global"]["meshID"] == "mesh1"
    assert releases["mesh1-east-eastwest-release"]["replicaCount"] == 3
    assert releases["mesh1-west-eastwest-release"]["replicaCount"] == 2


# -- refused -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("istio", "key", "words"),
    [
        (
            {"revisions": [{"name": OLD, "version": "1.29.6"}], "version": "1.30.3"},
            "mesh:istio.version",
            "leave it unset",
        ),
        (
            {"revisions": [{"name": OLD, "version": "1.29.6"}, {"name": NEW, "version": "1.30.3"}]},
            "mesh:istio.gatewayRevision",
            "injects the gateways",
        ),
        (
            {
                "revisions": [{"name": OLD, "version": "1.29.6"}, {"name": NEW, "version": "1.30.3"}],
                "gatewayRevision": OLD,
            },
            "mesh:istio.tags",
            "add a `default` tag",
        ),
        ({"revision": OLD, "tags": {"prod": "nope"}}, "mesh:istio.tags.prod", "no revision 'nope'"),
        ({"revision": OLD, "tags": {OLD: OLD}}, f"mesh:istio.tags.{OLD}", "a name of its own"),
        ({"tags": {"default": "default"}}, "mesh:istio.tags.default", "installed without a revision"),
        ({"version": "1.28.4"}, "mesh:istio.version", "upgrades to 1.29 first"),
        (
            {
                "revisions": [{"name": "a", "version": "1.30.3"}, {"name": "a", "version": "1.30.2"}],
                "gatewayRevision": "a",
            },
            "mesh:istio.revisions[1].name",
            "listed twice",
        ),
    ],
)
def test_inconsistent_revisions_are_refused_with_their_key(istio: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        spec_of({**base(), "mesh:istio": istio})
    problems = {p.key: p.message for p in caught.value.problems}
    assert key in problems and words in problems[key], problems


def test_a_namespace_names_a_tag_never_a_revision() -> None:
    config = with_istio(base(), revisions=[{"name": OLD, "version": "1.29.6"}], tags={"prod": OLD})
    config["mesh:namespaces"] = [
        {"name": "shop", "tag": OLD},
        {"name": "kube-system"},
        {"name": "x", "clusters": ["y"]},
    ]
    with pytest.raises(ConfigError) as caught:
        spec_of(config)
    problems = {p.key: p.message for p in caught.value.problems}
    assert "namespaces follow tags, not revisions" in problems["mesh:namespaces[0].tag"]
    assert "not an application namespace" in problems["mesh:namespaces[1].name"]
    assert "no cluster named 'y'" in problems["mesh:namespaces[2].clusters[0]"]


def test_the_plan_shows_revisions_tags_and_which_values_came_from_config() -> None:
    _, config = upgrade_steps(base())[1]
    config["mesh:istio"] = {**config["mesh:istio"], "values": {"istiod": {"env": {"PILOT_X": "1"}}}}
    spec, run = spec_of(config), run_config(config)
    assert revisions_text(spec) == (
        f"  {OLD}: Istio 1.29.6, tags default, prod, gateways\n  {NEW}: Istio 1.30.3, tags canary\n"
    )
    marked = {(d["cluster"], d["release"]): d.get("fromConfig") for d in release_values(spec, run)}
    assert marked[("east", f"istiod-{NEW}")] == ["env.PILOT_X"]
    assert marked[("east", "istio-base")] is None and marked[("east", "istio-eastwestgateway")] is None
