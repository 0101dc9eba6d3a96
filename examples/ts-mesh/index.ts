// One Istio mesh on EKS and GKE from TypeScript, through meshlib's Pulumi package.
//
// "@pulumi/meshlib" is the SDK that `pulumi package add ../..` (or
// `pulumi package add github.com/<owner>/<repo>@v<version>`) generates into sdks/meshlib from the
// package's schema (examples/schema.json); it is not checked in. The argument names below are the
// schema's input names; tests/test_language_examples.py checks them against examples/schema.json.
import * as pulumi from "@pulumi/pulumi";
import * as meshlib from "@pulumi/meshlib";

const config = new pulumi.Config();
const network = new pulumi.StackReference(config.get("networkStack") ?? "acme/network/dev");
const zones = [0, 1]; // how many subnets is plain (known at plan time); each id may be an output
const subnetIds = (output: string) =>
    zones.map((index) => network.requireOutput(output).apply((ids: string[]) => ids[index]));

const mesh = new meshlib.MultiClusterMesh("mesh1", {
    meshId: "mesh1",
    mode: "multi-primary",
    adminCidrs: ["203.0.113.7/32"],
    istio: { version: "1.30.3" },
    clusters: [
        {
            name: "east",
            cloud: "aws",
            region: "us-east-1",
            network: "net-aws",
            kubernetesVersion: "1.33",
            nodes: { instanceType: "m6i.large", min: 2, max: 5 },
            vpcId: network.requireOutput("vpcId"),
            publicSubnetIds: subnetIds("publicSubnetIds"),
            privateSubnetIds: subnetIds("privateSubnetIds"),
        },
        {
            name: "central",
            cloud: "gcp",
            project: "acme-mesh-prod",
            region: "us-central1",
            network: "net-gcp",
            nodes: { instanceType: "e2-standard-4", min: 2, max: 5 },
        },
    ],
    services: [
        {
            name: "reviews",
            namespace: "shop",
            cluster: "central",
            consumers: ["east"],
            ports: [{ number: 9080, name: "http", protocol: "HTTP" }],
        },
    ],
});

export const clusterEndpoints = mesh.clusterEndpoints;
export const eastWestAddresses = mesh.eastWestAddresses;
export const kubeconfigs = mesh.kubeconfigs;
export const summary = mesh.summary;
