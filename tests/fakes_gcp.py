"""Fake computed outputs and invoke results: gcp."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any


def fake_ip(seed: str) -> str:
    """`tests.mocks.fake_ip`, imported late: `tests.mocks` imports this table."""
    from tests import mocks

    return mocks.fake_ip(seed)


_API = "https://www.googleapis.com/compute/v1"

FAKE_CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfakeGKEclusterCA\n-----END CERTIFICATE-----\n"
"""The PEM every fake GKE cluster reports as its CA (base64-encoded in `masterAuth`)."""


def _project(inputs: dict[str, Any]) -> str:
    return str(inputs.get("project") or "fake-project")


def _resource_name(name: str, inputs: dict[str, Any]) -> str:
    return str(inputs.get("name") or name)


def _network(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    path = f"projects/{_project(inputs)}/global/networks/{_resource_name(name, inputs)}"
    return {"selfLink": f"{_API}/{path}", "networkId": "1234567890", "gatewayIpv4": "10.0.0.1", "id": path}


def _regional(kind: str) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    def outputs(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        region = inputs.get("region") or "us-central1"
        path = f"projects/{_project(inputs)}/regions/{region}/{kind}/{_resource_name(name, inputs)}"
        return {"selfLink": f"{_API}/{path}", "id": path, "creationTimestamp": "2024-01-01T00:00:00.000-00:00"}

    return outputs


def _subnetwork(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cidr = str(inputs.get("ipCidrRange", "10.0.0.0/20"))
    return {**_regional("subnetworks")(name, inputs), "gatewayAddress": cidr.split("/")[0].rsplit(".", 1)[0] + ".1"}


def _address(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    if inputs.get("address"):
        address = str(inputs["address"])
    elif inputs.get("addressType") == "INTERNAL":
        address = f"10.250.0.{int(hashlib.sha256(name.encode()).hexdigest(), 16) % 250 + 2}"
    else:
        address = fake_ip(name)
    return {**_regional("addresses")(name, inputs), "address": address, "users": []}


def _firewall(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    path = f"projects/{_project(inputs)}/global/firewalls/{_resource_name(name, inputs)}"
    return {"selfLink": f"{_API}/{path}", "id": path}


def _account(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    email = f"{inputs.get('accountId', name)}@{_project(inputs)}.iam.gserviceaccount.com"
    return {
        "email": email,
        "member": f"serviceAccount:{email}",
        "name": f"projects/{_project(inputs)}/serviceAccounts/{email}",
        "uniqueId": str(int(hashlib.sha256(email.encode()).hexdigest(), 16) % 10**21),
    }


def _iam_member(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"etag": "BwYfakeEtag="}


def _cluster(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    location = inputs.get("location") or "us-central1"
    path = f"projects/{_project(inputs)}/locations/{location}/clusters/{_resource_name(name, inputs)}"
    return {
        "endpoint": fake_ip(f"{name}-endpoint"),
        "masterAuth": {
            "clusterCaCertificate": base64.b64encode(FAKE_CA_PEM.encode()).decode(),
            "clientCertificate": "",
            "clientKey": "",
            "clientCertificateConfig": {"issueClientCertificate": False},
        },
        "masterVersion": "1.33.5-gke.1000000",
        "selfLink": f"https://container.googleapis.com/v1/{path}",
        "id": path,
        "labelFingerprint": "fake0000",
    }


def _node_pool(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    group = f"{_API}/projects/{_project(inputs)}/zones/us-central1-a/instanceGroupManagers/gke-{name}-grp"
    return {"instanceGroupUrls": [group], "managedInstanceGroupUrls": [group], "version": "1.33.5-gke.1000000"}


OUTPUTS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "gcp:compute/network:Network": _network,
    "gcp:compute/subnetwork:Subnetwork": _subnetwork,
    "gcp:compute/router:Router": _regional("routers"),
    "gcp:compute/routerNat:RouterNat": lambda name, inputs: {},
    "gcp:compute/address:Address": _address,
    "gcp:compute/firewall:Firewall": _firewall,
    "gcp:serviceaccount/account:Account": _account,
    "gcp:projects/iAMMember:IAMMember": _iam_member,
    "gcp:container/cluster:Cluster": _cluster,
    "gcp:container/nodePool:NodePool": _node_pool,
}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
