import { ProtoWireReader } from "@nodelet/runtime-api";

// The PLEG relists every second, and on an idle node the answer is the same every time: the same
// containers and sandboxes, only in another order, and with their labels and annotations in
// another order too (containerd and the Go protobuf encoder both walk Go maps). Decoding them again
// cost about a fifth of an idle agent's CPU (most of it UTF-8 decoding of labels and annotations)
// plus the garbage. An item with the same id whose fields other than its maps are byte-equal to
// the ones decoded last time is the same value (CRI cannot change labels or annotations), so it is
// reused; only new or changed items are decoded.

/** Names the message in a malformed-response error. */
const WHAT = "a list response";

/** Decodes one item of the list (ts-proto's `decode` of the item message). */
export type DecodeItem<T> = (bytes: Uint8Array) => T;

interface Remembered<T> {
  /** The item's encoding without its maps (see #fixedRuns). */
  fixed: Buffer;
  value: T;
}

/**
 * Decodes responses that hold one repeated message field (field 1: ListContainersResponse's
 * `containers`, ListPodSandboxResponse's `items`), reusing the items of the previous response
 * whose encoding is unchanged. Reused items are frozen, so a caller that modifies one fails at
 * once instead of changing what later calls return.
 *
 * `mapFields` are the item's map fields, left out of the comparison. `decode(buf, true)`
 * is for an unfiltered list: what it remembers is replaced by that list's items, so containers
 * that are gone are forgotten. Filtered lists decode without the memo.
 */
export class ListItemMemo<T extends object> {
  readonly #decodeItem: DecodeItem<T>;
  readonly #mapFields: ReadonlySet<number>;
  #remembered = new Map<string, Remembered<T>>();

  constructor(decodeItem: DecodeItem<T>, mapFields: readonly number[]) {
    this.#decodeItem = decodeItem;
    this.#mapFields = new Set(mapFields);
  }

  /** The number of items remembered (for tests). */
  get size(): number {
    return this.#remembered.size;
  }

  decode(buf: Buffer, remember: boolean): T[] {
    const items: T[] = [];
    const next = remember ? new Map<string, Remembered<T>>() : undefined;
    const cursor = new ProtoWireReader(buf, WHAT);
    while (!cursor.done) {
      const tag = cursor.varint();
      if (tag !== 0x0a) {
        // Not the list (field 1, length-delimited): a field of a newer API; skipped, as decoders do.
        cursor.skip(tag);
        continue;
      }
      const length = cursor.varint();
      const start = cursor.pos;
      cursor.advance(length);
      const end = cursor.pos;
      const key = next ? itemKey(buf, start, end) : undefined;
      if (!next || key === undefined) {
        items.push(this.#decodeItem(buf.subarray(start, end)));
        continue;
      }
      const runs = this.#fixedRuns(buf, start, end);
      let entry = this.#remembered.get(key);
      if (!entry || !sameRuns(buf, runs, entry.fixed)) {
        entry = { fixed: copyRuns(buf, runs), value: deepFreeze(this.#decodeItem(buf.subarray(start, end))) };
      }
      next.set(key, entry);
      items.push(entry.value);
    }
    if (next) this.#remembered = next;
    return items;
  }

  /**
   * The item's fields other than its maps, as runs of consecutive fields: [from, to, from, to…]
   * offsets into the response. Labels and annotations are left out: CRI sets them when a container
   * or sandbox is created and has no call to change them, so for one id they never differ (and Go
   * writes their entries in another order each time).
   */
  #fixedRuns(buf: Buffer, start: number, end: number): number[] {
    const runs: number[] = [];
    const cursor = new ProtoWireReader(buf, WHAT, start, end);
    let runStart = start;
    while (cursor.pos < end) {
      const fieldStart = cursor.pos;
      const tag = cursor.varint();
      cursor.skip(tag);
      if (this.#mapFields.has(tag >>> 3)) {
        if (fieldStart > runStart) runs.push(runStart, fieldStart);
        runStart = cursor.pos;
      }
    }
    if (end > runStart) runs.push(runStart, end);
    return runs;
  }
}

/** Whether the runs of `buf` are, end to end, exactly `fixed` (compared in place, no copies). */
function sameRuns(buf: Buffer, runs: number[], fixed: Buffer): boolean {
  let at = 0;
  for (let i = 0; i < runs.length; i += 2) {
    const from = runs[i] as number;
    const to = runs[i + 1] as number;
    const n = to - from;
    if (at + n > fixed.length || fixed.compare(buf, from, to, at, at + n) !== 0) return false;
    at += n;
  }
  return at === fixed.length;
}

/** The runs of `buf` end to end in a new buffer (which does not keep the response alive). */
function copyRuns(buf: Buffer, runs: number[]): Buffer {
  let size = 0;
  for (let i = 0; i < runs.length; i += 2) size += (runs[i + 1] as number) - (runs[i] as number);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < runs.length; i += 2) at += buf.copy(out, at, runs[i], runs[i + 1]);
  return out;
}

/** The item's id: its first field when that is field 1, a string (both Container and PodSandbox). */
function itemKey(buf: Buffer, start: number, end: number): string | undefined {
  if (end - start < 2 || buf[start] !== 0x0a) return undefined;
  const cursor = new ProtoWireReader(buf, WHAT, start + 1, end);
  const length = cursor.varint();
  if (length === 0 || cursor.pos + length > end) return undefined;
  return buf.toString("latin1", cursor.pos, cursor.pos + length);
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
