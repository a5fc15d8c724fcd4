import { describe, expect, it } from "vitest";
import { type ChannelSink, ChannelWriter } from "../src/server/channel-writer.js";

/** A sink that records messages and completes their writes when told; flushes run when told. */
function harness(options: { base64?: boolean; maxMessage?: number } = {}) {
  const messages: { data: Buffer | string; binary: boolean }[] = [];
  const pending: ((err?: Error) => void)[] = [];
  let buffered = 0;
  const record = (data: Buffer | string, binary: boolean, cb?: () => void) => {
    messages.push({ data, binary });
    buffered += data.length;
    const size = data.length;
    pending.push(() => {
      buffered -= size;
      cb?.();
    });
  };
  const sink: ChannelSink = {
    // The message as the peer reads it: the parts in one payload.
    sendBinary: (parts, cb) => record(Buffer.concat(parts), true, cb),
    sendText: (text, cb) => record(text, false, cb),
    get bufferedAmount() {
      return buffered;
    },
  };
  const deferred: (() => void)[] = [];
  const writer = new ChannelWriter(sink, {
    base64: options.base64 ?? false,
    maxMessage: options.maxMessage,
    defer: (flush) => deferred.push(flush),
  });
  return {
    writer,
    messages,
    /** The end of the tick: the deferred flushes run. */
    tick() {
      for (const f of deferred.splice(0)) f();
    },
    /** The socket takes every message sent so far. */
    written() {
      for (const done of pending.splice(0)) done();
    },
    binary: () => messages.map((m) => [(m.data as Buffer)[0], (m.data as Buffer).subarray(1).toString()]),
  };
}

const b = (s: string) => Buffer.from(s);

describe("ChannelWriter (a relay's output as channel messages)", () => {
  it("sends one channel's chunks of one tick as one message, channel byte first", () => {
    const h = harness();
    h.writer.write(1, b("ab"));
    h.writer.write(1, b("cd"));
    h.writer.write(1, b("ef"));
    expect(h.messages).toEqual([]);
    h.tick();
    expect(h.binary()).toEqual([[1, "abcdef"]]);
    expect(h.messages[0]?.binary).toBe(true);
  });

  it("keeps the order of chunks across channels and never mixes two channels in a message", () => {
    const h = harness();
    h.writer.write(1, b("o1"));
    h.writer.write(1, b("o2"));
    h.writer.write(2, b("e1"));
    h.writer.write(1, b("o3"));
    h.writer.write(2, b("e2"));
    h.writer.write(2, b("e3"));
    h.tick();
    h.writer.write(1, b("o4"));
    h.tick();
    expect(h.binary()).toEqual([
      [1, "o1o2"],
      [2, "e1"],
      [1, "o3"],
      [2, "e2e3"],
      [1, "o4"],
    ]);
  });

  it("sends an empty chunk (the ready signal) as a message of its own, after what is pending", () => {
    const h = harness();
    h.writer.write(1, Buffer.alloc(0));
    h.writer.write(1, b("x"));
    h.writer.write(3, b("status"));
    h.writer.flush();
    expect(h.binary()).toEqual([
      [1, ""],
      [1, "x"],
      [3, "status"],
    ]);
  });

  it("sends at once when a message is full, and splits one tick's chunks above the limit", () => {
    const h = harness({ maxMessage: 4 });
    h.writer.write(1, b("abc"));
    h.writer.write(1, b("defghij"));
    // 10 bytes reached the limit: they leave without waiting for the tick, in pieces of 4.
    expect(h.binary()).toEqual([
      [1, "abcd"],
      [1, "efgh"],
      [1, "ij"],
    ]);
    h.tick();
    expect(h.messages).toHaveLength(3);
  });

  it("encodes a v4.base64 message as the channel digit and the base64 of the whole payload", () => {
    const h = harness({ base64: true });
    h.writer.write(2, b("a"));
    h.writer.write(2, b("bc"));
    h.tick();
    expect(h.messages).toEqual([{ data: `2${b("abc").toString("base64")}`, binary: false }]);
  });

  it("calls back once the message carrying a chunk is written, and counts pending bytes as buffered", () => {
    const h = harness();
    const done: string[] = [];
    h.writer.write(1, b("aaaa"), () => done.push("a"));
    h.writer.write(1, b("bbbb"), () => done.push("b"));
    expect(h.writer.bufferedAmount).toBe(8);
    h.tick();
    expect(h.writer.bufferedAmount).toBe(9);
    expect(done).toEqual([]);
    h.written();
    expect(done).toEqual(["a", "b"]);
    expect(h.writer.bufferedAmount).toBe(0);
  });

  it("drops what is pending on close and ignores later writes", () => {
    const h = harness();
    h.writer.write(1, b("lost"));
    h.writer.close();
    h.tick();
    h.writer.write(1, b("late"));
    h.writer.flush();
    h.tick();
    expect(h.messages).toEqual([]);
    expect(h.writer.bufferedAmount).toBe(0);
  });
});
