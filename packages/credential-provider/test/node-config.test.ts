import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createManualClock } from "@nodelet/runtime-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createNodeDockerConfigKeyring,
  dockerConfigSearchPaths,
  type NodeDockerConfigOptions,
} from "../src/index.js";
import { b64, expectNoSecrets, recordingLogger } from "./support/secrets.js";

let base: string;
let dirs: { rootDir: string; cwd: string; homeDir: string; fsRoot: string };

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "nodelet-cp-node-"));
  dirs = {
    rootDir: join(base, "root"),
    cwd: join(base, "cwd"),
    homeDir: join(base, "home"),
    fsRoot: join(base, "fs"),
  };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  await mkdir(join(dirs.homeDir, ".docker"));
  await mkdir(join(dirs.fsRoot, ".docker"));
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

function configJson(user: string, password = "s3cr3t-pa55"): string {
  return JSON.stringify({ auths: { "r.io": { auth: b64(`${user}:${password}`) } } });
}

function dockercfg(user: string): string {
  return JSON.stringify({ "r.io": { username: user, password: "s3cr3t-pa55" } });
}

async function usernames(options: NodeDockerConfigOptions): Promise<string[]> {
  const keyring = createNodeDockerConfigKeyring(options);
  return (await keyring.lookup("r.io/app:1")).map((a) => a.username);
}

describe("node docker config search", () => {
  it("lists config.json then .dockercfg candidates in the kubelet's order", () => {
    expect(dockerConfigSearchPaths({ ...dirs })).toEqual([
      { path: join(dirs.rootDir, "config.json"), format: "config.json" },
      { path: join(dirs.cwd, "config.json"), format: "config.json" },
      { path: join(dirs.homeDir, ".docker", "config.json"), format: "config.json" },
      { path: join(dirs.fsRoot, ".docker", "config.json"), format: "config.json" },
      { path: join(dirs.rootDir, ".dockercfg"), format: ".dockercfg" },
      { path: join(dirs.cwd, ".dockercfg"), format: ".dockercfg" },
      { path: join(dirs.homeDir, ".dockercfg"), format: ".dockercfg" },
      { path: join(dirs.fsRoot, ".dockercfg"), format: ".dockercfg" },
    ]);
    expect(dockerConfigSearchPaths({ cwd: "/w", homeDir: "/h" }).map((c) => c.path)).toEqual([
      "/w/config.json",
      "/h/.docker/config.json",
      "/.docker/config.json",
      "/w/.dockercfg",
      "/h/.dockercfg",
      "/.dockercfg",
    ]);
  });

  it("the first existing file wins, config.json before .dockercfg", async () => {
    const files: Array<[string, string]> = [
      [join(dirs.fsRoot, ".dockercfg"), dockercfg("fs-cfg")],
      [join(dirs.homeDir, ".dockercfg"), dockercfg("home-cfg")],
      [join(dirs.cwd, ".dockercfg"), dockercfg("cwd-cfg")],
      [join(dirs.rootDir, ".dockercfg"), dockercfg("root-cfg")],
      [join(dirs.fsRoot, ".docker", "config.json"), configJson("fs-json")],
      [join(dirs.homeDir, ".docker", "config.json"), configJson("home-json")],
      [join(dirs.cwd, "config.json"), configJson("cwd-json")],
      [join(dirs.rootDir, "config.json"), configJson("root-json")],
    ];
    const expected = [
      "fs-cfg",
      "home-cfg",
      "cwd-cfg",
      "root-cfg",
      "fs-json",
      "home-json",
      "cwd-json",
      "root-json",
    ];
    for (const [i, [path, text]] of files.entries()) {
      await writeFile(path, text);
      expect(await usernames({ ...dirs })).toEqual([expected[i]]);
    }
  });

  it("skips an invalid file with a warning and uses the next valid one", async () => {
    const log = recordingLogger();
    await writeFile(join(dirs.rootDir, "config.json"), '{"auths": {"r.io": {"password": "s3cr3t-pa55"');
    await writeFile(join(dirs.cwd, "config.json"), JSON.stringify({ auths: ["s3cr3t-pa55"] }));
    await writeFile(join(dirs.homeDir, ".docker", "config.json"), configJson("home"));
    const keyring = createNodeDockerConfigKeyring({ ...dirs, logger: log.logger });
    expect((await keyring.lookup("r.io/x")).map((a) => a.username)).toEqual(["home"]);
    expect((await keyring.snapshot()).path).toBe(join(dirs.homeDir, ".docker", "config.json"));
    expect(log.warnings).toEqual([
      `${join(dirs.rootDir, "config.json")}: is not valid JSON; skipping it`,
      `${join(dirs.cwd, "config.json")}: "auths" is not a JSON object; skipping it`,
    ]);
    expectNoSecrets(log.allText());
  });

  it("a valid file with a malformed entry is used, the entry left out", async () => {
    const log = recordingLogger();
    await writeFile(
      join(dirs.rootDir, "config.json"),
      JSON.stringify({ auths: { "bad.io": { auth: "@@@" }, "r.io": { username: "ok", password: "p" } } }),
    );
    expect(await usernames({ ...dirs, logger: log.logger })).toEqual(["ok"]);
    expect(log.warnings).toEqual([
      `${join(dirs.rootDir, "config.json")}: entry "bad.io" field "auth" is not valid base64; ignoring it`,
    ]);
  });

  it("a config.json without auths (credHelpers only) still wins, as in the kubelet", async () => {
    await writeFile(join(dirs.rootDir, "config.json"), JSON.stringify({ credsStore: "desktop" }));
    await writeFile(join(dirs.cwd, "config.json"), configJson("cwd"));
    expect(await usernames({ ...dirs })).toEqual([]);
  });

  it("skips a FIFO and a file over the size limit with a warning", async () => {
    const log = recordingLogger();
    const fifo = join(dirs.rootDir, "config.json");
    execFileSync("mkfifo", [fifo]);
    await writeFile(join(dirs.cwd, "config.json"), `${configJson("big")}${" ".repeat(2048)}`);
    await writeFile(join(dirs.homeDir, ".docker", "config.json"), configJson("home"));
    expect(await usernames({ ...dirs, logger: log.logger, maxFileBytes: 1024 })).toEqual(["home"]);
    expect(log.warnings).toEqual([
      `docker config ${fifo} is a named pipe (FIFO), not a regular file; skipping it`,
      `docker config ${join(dirs.cwd, "config.json")} is 2 KiB; the limit is 1 KiB; skipping it`,
    ]);
  });

  it("skips a directory named config.json", async () => {
    const log = recordingLogger();
    await mkdir(join(dirs.rootDir, "config.json"));
    await writeFile(join(dirs.cwd, "config.json"), configJson("cwd"));
    expect(await usernames({ ...dirs, logger: log.logger })).toEqual(["cwd"]);
    expect(log.warnings[0]).toBe(
      `docker config ${join(dirs.rootDir, "config.json")} is a directory, not a regular file; skipping it`,
    );
  });

  it("finds nothing and reports nothing when no file exists", async () => {
    const log = recordingLogger();
    const keyring = createNodeDockerConfigKeyring({ ...dirs, logger: log.logger });
    expect(await keyring.lookup("r.io/x")).toEqual([]);
    expect(await keyring.snapshot()).toEqual({ path: undefined, config: new Map() });
    expect(log.warnings).toEqual([]);
  });
});

describe("node docker config cache", () => {
  it("keeps a read for 5 minutes on the injected clock, then reads again", async () => {
    const clock = createManualClock(1_000_000);
    const keyring = createNodeDockerConfigKeyring({ ...dirs, clock });
    expect((await keyring.lookup("r.io/x")).map((a) => a.username)).toEqual([]);

    // A new file is not seen while the (empty) read is fresh...
    await writeFile(join(dirs.homeDir, ".docker", "config.json"), configJson("home"));
    clock.advance(5 * 60 * 1000 - 1);
    expect(await keyring.lookup("r.io/x")).toEqual([]);
    // ...and is seen once it expired.
    clock.advance(1);
    expect((await keyring.lookup("r.io/x")).map((a) => a.username)).toEqual(["home"]);

    // A higher-priority file appearing is only noticed at the next expiry.
    await writeFile(join(dirs.rootDir, "config.json"), configJson("root"));
    clock.advance(60_000);
    expect((await keyring.lookup("r.io/x")).map((a) => a.username)).toEqual(["home"]);
    clock.advance(4 * 60_000);
    expect((await keyring.lookup("r.io/x")).map((a) => a.username)).toEqual(["root"]);
  });

  it("reads the file again before expiry when its mtime or size changed", async () => {
    const clock = createManualClock(1_000_000);
    const file = join(dirs.rootDir, "config.json");
    await writeFile(file, configJson("first"));
    const keyring = createNodeDockerConfigKeyring({ ...dirs, clock });
    expect((await keyring.lookup("r.io/x")).map((a) => a.username)).toEqual(["first"]);

    // Same size, new mtime.
    await writeFile(file, configJson("secnd"));
    await utimes(file, new Date(), new Date(Date.now() + 10_000));
    clock.advance(1000);
    expect((await keyring.lookup("r.io/x")).map((a) => a.username)).toEqual(["secnd"]);

    // Different size, mtime forced back to the same second: the size tells.
    const before = new Date(Date.now() + 10_000);
    await writeFile(file, configJson("third-longer"));
    await utimes(file, before, before);
    expect((await keyring.lookup("r.io/x")).map((a) => a.username)).toEqual(["third-longer"]);

    // Gone: the search runs again.
    await rm(file);
    await writeFile(join(dirs.cwd, "config.json"), configJson("cwd"));
    expect((await keyring.lookup("r.io/x")).map((a) => a.username)).toEqual(["cwd"]);
  });

  it("does not read again while the file is unchanged and fresh", async () => {
    const clock = createManualClock(1_000_000);
    const file = join(dirs.rootDir, "config.json");
    await writeFile(file, configJson("first"));
    const log = recordingLogger();
    const keyring = createNodeDockerConfigKeyring({ ...dirs, clock, logger: log.logger });
    // A read builds a new snapshot object: the same object means no read.
    const first = await keyring.snapshot();
    clock.advance(4 * 60_000);
    expect(await keyring.snapshot()).toBe(first);
    clock.advance(60_000);
    expect(await keyring.snapshot()).not.toBe(first);
  });
});
