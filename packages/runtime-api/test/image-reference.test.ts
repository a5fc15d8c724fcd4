import { describe, expect, it } from "vitest";
import {
  applyDefaultImageTag,
  ErrorCode,
  isDockerHubImage,
  isNodeletError,
  normalizeImage,
  parseImageReference,
  registryOf,
  repositoryToPull,
} from "../src/index.js";

const DIGEST = `sha256:${"a".repeat(64)}`;

describe("applyDefaultImageTag", () => {
  it.each([
    ["busybox", "busybox:latest"],
    ["busybox:1.36", "busybox:1.36"],
    ["library/busybox", "library/busybox:latest"],
    ["docker.io/library/busybox", "docker.io/library/busybox:latest"],
    ["127.0.0.1:5000/bench/img-1", "127.0.0.1:5000/bench/img-1:latest"],
    ["127.0.0.1:5000/bench/img-1:1", "127.0.0.1:5000/bench/img-1:1"],
    ["localhost/app", "localhost/app:latest"],
    [`busybox@${DIGEST}`, `busybox@${DIGEST}`],
    [`busybox:1.36@${DIGEST}`, `busybox:1.36@${DIGEST}`],
    ["[::1]:5000/app", "[::1]:5000/app:latest"],
  ])("%s -> %s (as text, no docker.io prefix)", (input, expected) => {
    expect(applyDefaultImageTag(input)).toBe(expected);
  });
});

describe("invalid image names", () => {
  it.each([
    ["", "invalid reference format"],
    ["Busybox", "repository name (library/Busybox) must be lowercase"],
    ["registry.io/Team/app", "repository name (Team/app) must be lowercase"],
    ["busybox:", "invalid reference format"],
    ["busybox::1", "invalid reference format"],
    ["-busybox", "invalid reference format"],
    ["busybox@sha256:abc", "invalid reference format"],
    [`busybox@sha256:${"a".repeat(63)}`, "invalid checksum digest length"],
    [`busybox@md5:${"a".repeat(32)}`, "unsupported digest algorithm"],
    ["a".repeat(64), "cannot specify 64-byte hexadecimal strings"],
    [`a/${"b".repeat(260)}`, "must not be more than 255 characters"],
    ["busybox:tag with space", "invalid reference format"],
  ])("%j is InvalidImageName (%s)", (input, message) => {
    const err = (() => {
      try {
        applyDefaultImageTag(input);
      } catch (e) {
        return e;
      }
    })();
    expect(isNodeletError(err, ErrorCode.InvalidImageName)).toBe(true);
    expect((err as Error).message).toContain(message);
  });
});

describe("parseImageReference", () => {
  it("normalizes short names the way the kubelet's keyring lookup sees them", () => {
    expect(parseImageReference("busybox")).toEqual({
      name: "docker.io/library/busybox",
      domain: "docker.io",
      path: "library/busybox",
      tag: undefined,
      digest: undefined,
    });
    expect(parseImageReference("index.docker.io/foo/bar:1").name).toBe("docker.io/foo/bar");
    expect(parseImageReference(`127.0.0.1:5000/bench/img-1:1@${DIGEST}`)).toMatchObject({
      domain: "127.0.0.1:5000",
      path: "bench/img-1",
      tag: "1",
      digest: DIGEST,
    });
    expect(repositoryToPull("registry.k8s.io/pause:3.9")).toBe("registry.k8s.io/pause");
  });
});

describe("normalizeImage", () => {
  it.each([
    ["busybox", "docker.io/library/busybox"],
    ["busybox:1.36", "docker.io/library/busybox"],
    ["library/busybox@sha256:abc", "docker.io/library/busybox"],
    ["foo/bar:tag", "docker.io/foo/bar"],
    ["docker.io/busybox", "docker.io/library/busybox"],
    ["index.docker.io/foo/bar", "docker.io/foo/bar"],
    ["127.0.0.1:5000/x:1", "127.0.0.1:5000/x"],
    ["registry.io:5000/a/b:t@sha256:00", "registry.io:5000/a/b"],
    ["localhost/x", "localhost/x"],
    ["quay.io/coreos/etcd", "quay.io/coreos/etcd"],
    ["", ""],
  ])("%j → %j", (image, expected) => {
    expect(normalizeImage(image)).toBe(expected);
  });

  it("registryOf is the first segment with its port", () => {
    expect(registryOf("127.0.0.1:5000/x/y")).toBe("127.0.0.1:5000");
    expect(registryOf("docker.io/library/busybox")).toBe("docker.io");
    expect(isDockerHubImage("docker.io/library/busybox")).toBe(true);
    expect(isDockerHubImage("quay.io/coreos/etcd")).toBe(false);
  });

  it.each(["busybox:1.36", "index.docker.io/foo/bar", "127.0.0.1:5000/x:1", `busybox@${DIGEST}`])(
    "agrees with repositoryToPull on the valid %s",
    (image) => {
      expect(normalizeImage(image)).toBe(repositoryToPull(image));
    },
  );
});
