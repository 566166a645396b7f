/**
 * metricSamples against the real /metrics excerpt of a v1.31 kube-apiserver
 * (../shared/data/kube-api/v1.31-kubeadm-ha/metrics-excerpt.txt) and the text format's edge
 * cases (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
 */
import { readFileSync } from "fs";
import { join } from "path";
import { metricSamples, MetricsFormatError } from "../../preflight/prometheus";
import { thrownBy } from "../helpers/errors";

const DATA_DIR = join(__dirname, "../../../shared/data/kube-api/v1.31-kubeadm-ha");
const excerpt = readFileSync(join(DATA_DIR, "metrics-excerpt.txt"), "utf8");

describe("metricSamples on the real excerpt", () => {
  it("reads both apiserver_requested_deprecated_apis samples with every label", () => {
    expect(metricSamples(excerpt, "apiserver_requested_deprecated_apis")).toEqual([
      {
        labels: { group: "flowcontrol.apiserver.k8s.io", removed_release: "1.32", resource: "flowschemas", subresource: "", version: "v1beta3" },
        value: 1,
      },
      {
        labels: { group: "flowcontrol.apiserver.k8s.io", removed_release: "1.32", resource: "prioritylevelconfigurations", subresource: "", version: "v1beta3" },
        value: 1,
      },
    ]);
  });

  it("reads the etcd size in exponent form", () => {
    expect(metricSamples(excerpt, "apiserver_storage_size_bytes")).toEqual([{ labels: { storage_cluster_id: "etcd-0" }, value: 9105408 }]);
  });

  it("matches the name exactly, not as a prefix", () => {
    expect(metricSamples(excerpt, "apiserver_storage")).toEqual([]);
    expect(metricSamples(excerpt, "apiserver_storage_objects")).toHaveLength(51);
    expect(metricSamples(excerpt, "no_such_metric")).toEqual([]);
  });
});

describe("metricSamples edge cases", () => {
  it("resolves the three escapes in label values", () => {
    const text = 'm{a="say \\"hi\\"",b="back\\\\slash",c="two\\nlines",d="{},= #"} 2\n';
    expect(metricSamples(text, "m")).toEqual([{ labels: { a: 'say "hi"', b: "back\\slash", c: "two\nlines", d: "{},= #" }, value: 2 }]);
  });

  it("reads the float forms Go writes, and a timestamp", () => {
    const text = ["m{k=\"a\"} 9.105408e+06", 'm{k="b"} 1E-3', 'm{k="c"} -0.5', 'm{k="d"} +Inf', 'm{k="e"} -Inf', 'm{k="f"} NaN', 'm{k="g"} .5', 'm{k="h"} 3 1712345678901'].join("\n");
    const values = metricSamples(text, "m").map((s) => s.value);
    expect(values.slice(0, 5)).toEqual([9105408, 0.001, -0.5, Infinity, -Infinity]);
    expect(values[5]).toBeNaN();
    expect(values[6]).toBe(0.5);
    expect(metricSamples(text, "m")[7]).toEqual({ labels: { k: "h" }, value: 3, timestampMs: 1712345678901 });
  });

  it("skips blank lines, comments (also indented), other metrics and CRLF endings", () => {
    const text = "\n# HELP m help with m{x=\"1\"} 5\n  # TYPE m gauge\n\t\nother{a=\"b\"} 7\nm 4\r\nm{} 5\nm{a=\"1\",} 6\n   \n";
    expect(metricSamples(text, "m")).toEqual([
      { labels: {}, value: 4 },
      { labels: {}, value: 5 },
      { labels: { a: "1" }, value: 6 },
    ]);
  });

  it("allows blanks and tabs between tokens", () => {
    expect(metricSamples('m { a = "1" , b="2" }\t 3', "m")).toEqual([{ labels: { a: "1", b: "2" }, value: 3 }]);
  });

  it("reads the quoted name of the UTF-8 form", () => {
    expect(metricSamples('{"my.metric", "label.x"="v"} 1\n{"other"} 2', "my.metric")).toEqual([{ labels: { "label.x": "v" }, value: 1 }]);
  });

  it.each([
    ['m{a="1} 1', /unterminated/],
    ['m{a="\\t"} 1', /unknown escape/],
    ["m{a=1} 1", /not quoted/],
    ['m{a="1",a="2"} 1', /appears twice/],
    ['m{a="1"}', /no value/],
    ['m{a="1"} one', /not a float/],
    ['m{a="1"} 0x10', /not a float/],
    ['m{a="1"} 1 2 3', /more than a value/],
    ['m{a="1"} 1 1.5', /timestamp/],
  ])("rejects %j of the wanted metric, naming the line", (line, message) => {
    const e = thrownBy(MetricsFormatError, () => metricSamples(`# c\n${line}\n`, "m"));
    expect(e.line).toBe(2);
    expect(e.message).toMatch(message);
  });

  it("does not check lines of other metrics", () => {
    expect(metricSamples('broken{a="1} x\n{"other", a="1} x\nm 1', "m")).toEqual([{ labels: {}, value: 1 }]);
  });
});
