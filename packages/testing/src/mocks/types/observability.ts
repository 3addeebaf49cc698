import { arn, dnsSuffix, type OutputsFn } from "../values";

/** Structured outputs of the observability layer's types: AMP workspaces have their regional endpoint. */
export const OBSERVABILITY_OUTPUTS: Record<string, OutputsFn> = {
  "aws:amp/workspace:Workspace": (ctx) => {
    const id = `ws-${ctx.token("id").slice(0, 8)}-${ctx.token("id2").slice(0, 4)}`;
    return {
      id,
      arn: arn(ctx, "aps", `workspace/${id}`),
      prometheusEndpoint: `https://aps-workspaces.${ctx.region}.${dnsSuffix(ctx.partition)}/workspaces/${id}/`,
    };
  },
};
