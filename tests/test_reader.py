"""Remote secrets carry the token of `meshlib-reader`, an account with what watching istiods use.

The rules come from Istio 1.30's source (see `meshlib.plan.reader`); here: the objects are
valid Kubernetes RBAC, read-only where the mode allows, wider only where a primary controls a
remote, the charts' own reader is off, and a new token generation rotates every token without
replacing anything else.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from meshlib.offline.replacements import changes
from tests.mocks import Run
from tests.test_failure import run_config
from tests.test_lifecycle import base, primary_remote
from tests.validators import validate_core

CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
READ = {"list", "watch"}


@pytest.fixture(scope="module")
def multi() -> Run:
    return run_config(base())


@pytest.fixture(scope="module")
def controlled() -> Run:
    return run_config(primary_remote())


def rbac(run: Run, type_: str, cluster: str) -> list[dict[str, Any]]:
    """The reader's objects of `type_` in `cluster` (the deploy-time checks' accounts are tests/test_verify.py's)."""
    return [
        r.plain
        for r in run.resources
        if r.type == type_ and r.provider_name == f"mesh1-{cluster}-k8s" and "MeshVerification" not in r.urn
    ]


def as_object(plain: dict[str, Any], kind: str, api_version: str = "rbac.authorization.k8s.io/v1") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, **{k: v for k, v in plain.items() if k != "apiVersion"}}


def test_every_watched_cluster_gets_one_valid_reader(multi: Run) -> None:
    for cluster in ("east", "west", "central"):
        objects = {
            "ServiceAccount": rbac(multi, "kubernetes:core/v1:ServiceAccount", cluster),
            "ClusterRole": rbac(multi, CLUSTER_ROLE, cluster),
            "ClusterRoleBinding": rbac(multi, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", cluster),
            "Role": rbac(multi, ROLE, cluster),
            "RoleBinding": rbac(multi, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", cluster),
        }
        assert all(len(found) == 1 for found in objects.values()), (cluster, objects)
        for kind, (plain,) in objects.items():
            validate_core(as_object(plain, kind, "v1" if kind == "ServiceAccount" else "rbac.authorization.k8s.io/v1"))
            assert plain["metadata"]["name"] == "meshlib-reader"
        binding = objects["ClusterRoleBinding"][0]
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "meshlib-reader", "namespace": "istio-system"}
        ]


def test_a_watched_primary_is_only_read(multi: Run) -> None:
    (role,) = rbac(multi, CLUSTER_ROLE, "east")
    assert all(set(rule["verbs"]) <= READ for rule in role["rules"])
    granted = {
        (group, resource) for rule in role["rules"] for group in rule["apiGroups"] for resource in rule["resources"]
    }
    assert granted == {
        ("", "namespaces"),
        ("", "services"),
        ("", "pods"),
        ("", "nodes"),
        ("", "secrets"),  # Istio 1.30 needs the cluster-wide Secrets informer to sync (see meshlib.plan.reader)
        ("discovery.k8s.io", "endpointslices"),
        ("gateway.networking.k8s.io", "gateways"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
        ("networking.istio.io", "workloadentries"),
    }
    (namespaced,) = rbac(multi, ROLE, "east")
    assert namespaced["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "watch"], "resourceNames": ["istio"]}
    ]


def test_the_primary_of_a_remote_may_do_what_controlling_it_takes_and_no_more(controlled: Run) -> None:
    (role,) = rbac(controlled, CLUSTER_ROLE, "spoke")
    writes = [rule for rule in role["rules"] if set(rule["verbs"]) - READ - {"get"}]
    assert writes == [
        {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
        {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "verbs": ["list", "watch", "update"],
            "resourceNames": ["istio-ca-root-cert", "istio-ca-crl"],
        },
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]},
        {
            "apiGroups": ["admissionregistration.k8s.io"],
            "resources": ["mutatingwebhookconfigurations"],
            "verbs": ["update"],
            "resourceNames": ["istio-sidecar-injector"],
        },
    ]
    assert not any("*" in rule["verbs"] or "*" in rule["resources"] for rule in role["rules"])
    (namespaced,) = rbac(controlled, ROLE, "spoke")
    assert {"resourceNames": ["istio-namespace-controller-election"]}.items() <= namespaced["rules"][1].items()
    assert rbac(controlled, CLUSTER_ROLE, "hub") == []  # nobody watches the hub in primary-remote


def test_the_charts_own_reader_is_off_everywhere(multi: Run, controlled: Run) -> None:
    for run in (multi, controlled):
        releases = [r.plain for r in run.resources if r.type == "kubernetes:helm.sh/v3:Release"]
        istio = [r for r in releases if r["chart"] in ("base", "istiod")]
        assert istio and all(r["values"]["global"]["enableReaderRBAC"] is False for r in istio)


def test_a_new_token_generation_rotates_every_token_and_replaces_nothing_else() -> None:
    new = copy.deepcopy(base())
    new["mesh:readerTokenGeneration"] = 1
    old_run, new_run = run_config(base()), run_config(new)
    result = changes(old_run.resources, new_run.resources)
    replaced = sorted(c.name for c in result.values() if c.action == "replace")
    tokens = sorted(r.name for r in old_run.resources if r.name.endswith("-reader-token"))
    assert len(tokens) == 6 and replaced == tokens  # a new Secret each, so the old token is deleted: revoked
    assert all(c.paths == ["metadata.name"] for c in result.values() if c.action == "replace")
    renamed = {r.plain["metadata"]["name"] for r in new_run.resources if r.name.endswith("-reader-token")}
    assert renamed == {f"meshlib-reader-token-{w}-1" for w in ("east", "west", "central")}
    assert not [c for c in result.values() if c.action in ("create", "delete")]
