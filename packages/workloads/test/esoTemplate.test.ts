import * as assert from "node:assert/strict";
import { goUrlQuery, renderEsoTemplate } from "./integration/esoTemplate";

describe("ExternalSecret template rendering (the subset the real-engine test uses)", () => {
  it("escapes like Go's url.QueryEscape", () => {
    assert.equal(goUrlQuery("Az09-_.~"), "Az09-_.~");
    assert.equal(goUrlQuery("a b"), "a+b");
    assert.equal(goUrlQuery("p@ss:w/rd?&=%+"), "p%40ss%3Aw%2Frd%3F%26%3D%25%2B");
    assert.equal(goUrlQuery("ç"), "%C3%A7");
  });

  it("fills fields, with and without urlquery", () => {
    assert.equal(
      renderEsoTemplate("postgresql://{{ .username | urlquery }}:{{ .password | urlquery }}@h/{{.db}}", {
        username: "app",
        password: "a/b",
        db: "x",
      }),
      "postgresql://app:a%2Fb@h/x",
    );
  });

  it("refuses what it does not implement instead of rendering it differently", () => {
    assert.throws(() => renderEsoTemplate("{{ .a | b64enc }}", { a: "x" }), /function 'b64enc'/);
    assert.throws(() => renderEsoTemplate("{{ .missing }}", { a: "x" }), /no data key 'missing'/);
    assert.throws(() => renderEsoTemplate('{{ index . "a" }}', { a: "x" }), /only a field/);
    assert.throws(() => renderEsoTemplate("{{- .a }}", { a: "x" }), /trimming/);
  });
});
