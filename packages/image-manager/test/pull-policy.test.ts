import { describe, expect, it } from "vitest";
import { defaultPullPolicy, shouldPullImage } from "../src/index.js";

// Reference parsing itself is tested in @nodelet/runtime-api (test/image-reference.test.ts).
const DIGEST = `sha256:${"a".repeat(64)}`;

describe("pull policy", () => {
  it.each([
    ["busybox", "Always"],
    ["busybox:latest", "Always"],
    ["busybox:1.36", "IfNotPresent"],
    ["127.0.0.1:5000/bench/img-1:1", "IfNotPresent"],
    ["127.0.0.1:5000/bench/img-1", "Always"],
    [`busybox@${DIGEST}`, "IfNotPresent"],
    [`busybox:1.36@${DIGEST}`, "IfNotPresent"],
    [`busybox:latest@${DIGEST}`, "Always"],
    ["NOT VALID", "IfNotPresent"],
  ])("the default for %s is %s", (imageName, policy) => {
    expect(defaultPullPolicy(imageName)).toBe(policy);
  });

  it.each([
    ["Always", true, true],
    ["Always", false, true],
    ["IfNotPresent", true, false],
    ["IfNotPresent", false, true],
    ["Never", true, false],
    ["Never", false, false],
  ] as const)("%s with present=%s pulls: %s", (policy, present, pulls) => {
    expect(shouldPullImage(policy, present)).toBe(pulls);
  });
});
