"""The plugin's entry point (`PulumiPlugin.yaml`): serves `meshlib:index:MultiClusterMesh` to the Pulumi engine."""

from importlib.metadata import version

from pulumi.provider.experimental import component_provider_host

from meshlib.provider.mesh import PACKAGE, MultiClusterMesh

__all__: list[str] = []

if __name__ == "__main__":
    component_provider_host([MultiClusterMesh], name=PACKAGE, namespace="meshlib", version=version("meshlib"))
