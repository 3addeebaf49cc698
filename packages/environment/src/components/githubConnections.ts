import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ciConnectionName } from "@hcp/platform";

/** Arguments of {@link GitHubConnections}. */
export interface GitHubConnectionsArgs {
  /** Environment name (part of each connection's name). */
  readonly environment: string;
  /** The AWS provider of every region of the environment, by region name. */
  readonly providers: Readonly<Record<string, aws.Provider>>;
}

/**
 * One CodeConnections (CodeStar Connections) GitHub connection per region of the environment: the
 * GitHub App link through which that region's CodeBuild runner project (network layer) creates its
 * webhook and registers just-in-time runners. No token is stored anywhere: AWS holds the app
 * installation. A connection is created `PENDING` and must be completed once by an administrator in
 * the console (Developer Tools, Settings, Connections, "Update pending connection") before the
 * region's network stack can create its webhook (docs/ci.md, "In-VPC runners").
 */
export class GitHubConnections extends pulumi.ComponentResource {
  /** Connection by region name. */
  readonly connections: Readonly<Record<string, aws.codestarconnections.Connection>>;

  constructor(name: string, args: GitHubConnectionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hcp:environment:GitHubConnections", name, {}, opts);
    const connections: Record<string, aws.codestarconnections.Connection> = {};
    for (const [region, provider] of Object.entries(args.providers)) {
      connections[region] = new aws.codestarconnections.Connection(
        `${name}-${region}`,
        { name: ciConnectionName(args.environment, region), providerType: "GitHub" },
        { parent: this, provider },
      );
    }
    this.connections = connections;
    this.registerOutputs({
      connectionArns: Object.fromEntries(Object.entries(connections).map(([r, c]) => [r, c.arn])),
    });
  }
}
