import { repoTopology, runLayer } from "@hcp/testing";

describe("env smoke", () => {
  it("runs", async () => {
    const run = await runLayer({ layer: "environment", topology: repoTopology("production") });
    for (const r of run.resources) console.log(r.type, r.name, r.options.protect ? "P" : "");
    console.log(JSON.stringify(run.outputs).slice(0, 600), run.secretOutputNames);
    console.log([...run.mocks.genericTypes]);
  });
});
