"""Layer 2: pure decisions from a validated spec. No Pulumi resources."""

from __future__ import annotations

from meshlib.plan.credentials import (
    CACERTS_SECRET,
    CertificateProfile,
    cacerts_data,
    intermediate_profile,
    reader_token_metadata,
    remote_secret_kubeconfig,
    remote_secret_metadata,
    root_profile,
)
from meshlib.plan.manifests import (
    ISTIO_NAMESPACE,
    Manifest,
    cluster_manifests,
    cross_network_gateway,
    destination_rule,
    istiod_gateway,
    istiod_virtual_services,
    namespace_metadata,
    peer_authentication,
    service_entry,
)
from meshlib.plan.topology import ClusterPlan, MeshPlan, ServiceImport, plan_mesh
from meshlib.plan.values import (
    EAST_WEST_GATEWAY_NAME,
    base_values,
    gateway_values,
    injection_path,
    istiod_service_name,
    istiod_values,
)

__all__ = [
    "CACERTS_SECRET",
    "EAST_WEST_GATEWAY_NAME",
    "ISTIO_NAMESPACE",
    "CertificateProfile",
    "ClusterPlan",
    "Manifest",
    "MeshPlan",
    "ServiceImport",
    "base_values",
    "cacerts_data",
    "cluster_manifests",
    "cross_network_gateway",
    "destination_rule",
    "gateway_values",
    "injection_path",
    "intermediate_profile",
    "istiod_gateway",
    "istiod_service_name",
    "istiod_values",
    "istiod_virtual_services",
    "namespace_metadata",
    "peer_authentication",
    "plan_mesh",
    "reader_token_metadata",
    "remote_secret_kubeconfig",
    "remote_secret_metadata",
    "root_profile",
    "service_entry",
]
