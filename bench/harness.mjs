// Shared benchmark harness: every row compares our path with a bare floor measured in the same
// run, interleaved, because this machine is shared and absolute times drift.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `--quick`: a smoke run (CI runs it so the bench scripts never rot): every row runs once or twice
 * on small inputs; its numbers mean nothing and nothing is asserted on them.
 */
export const quick = process.argv.includes("--quick");

/** The size to use: `full` normally, `small` in a quick run. */
export const sized = (full, small) => (quick ? small : full);

export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
}

async function timeOnce(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Latency row: runs `ours` and `bare` alternately (order flipped every iteration) and reports
 * median and p95 of each in ms, ours/bare of the medians, and `paired`: the median of each
 * iteration's ours/bare. The two runs of an iteration are back to back, so a drift of the
 * machine's load over the row (which moves both sides' medians, not always alike) largely
 * cancels in the paired ratio. `samples` keeps each side's times, in iteration order.
 */
export async function latencyRow(name, { ours, bare, iterations = 50, warmup = 5, setup, teardown }) {
  if (quick) [iterations, warmup] = [Math.min(iterations, 2), 0];
  const samples = { ours: [], bare: [] };
  for (let i = 0; i < warmup + iterations; i++) {
    const order = i % 2 === 0 ? ["ours", "bare"] : ["bare", "ours"];
    for (const which of order) {
      const fn = which === "ours" ? ours : bare;
      const ctx = setup ? await setup(which) : undefined;
      const ms = await timeOnce(() => fn(ctx));
      if (teardown) await teardown(ctx, which);
      if (i >= warmup) samples[which].push(ms);
    }
  }
  const o = summarize(samples.ours);
  const b = summarize(samples.bare);
  const paired = pairedRatio(samples.ours, samples.bare);
  return { name, unit: "ms", ours: o, bare: b, ratio: o.median / b.median, paired, samples };
}

/** The median of `a[i] / b[i]` over the iterations (NaN without any). */
export function pairedRatio(a, b) {
  return summarize(a.map((x, i) => x / b[i])).median;
}

/** Throughput row: items/s for each side (rounds alternate), ratio = bare rate / our rate (≤ 1 is good). */
export async function throughputRow(name, { ours, bare, rounds = 2, items, setup, teardown }) {
  if (quick) rounds = 1;
  const rates = { ours: [], bare: [] };
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ["ours", "bare"] : ["bare", "ours"];
    for (const which of order) {
      const ctx = setup ? await setup(which) : undefined;
      const fn = which === "ours" ? ours : bare;
      const ms = await timeOnce(() => fn(ctx));
      rates[which].push((items * 1000) / ms);
      if (teardown) await teardown(which, i === rounds - 1);
    }
  }
  const o = summarize(rates.ours);
  const b = summarize(rates.bare);
  return { name, unit: `${items} items/s`, ours: o, bare: b, ratio: b.median / o.median };
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
export async function withConcurrency(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

const fmt = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(2)) : "-");

export function printTable(rows) {
  const header = [
    "benchmark",
    "unit",
    "ours median",
    "ours p95",
    "bare median",
    "bare p95",
    "ours/bare",
    "paired",
  ];
  const lines = rows.map((r) => [
    r.name,
    r.unit,
    fmt(r.ours.median),
    fmt(r.ours.p95),
    r.bare ? fmt(r.bare.median) : "-",
    r.bare ? fmt(r.bare.p95) : "-",
    // Rows without a target are measurements to read, not ratios to hold under 1.05.
    r.ratio === undefined
      ? "-"
      : `${r.ratio.toFixed(3)}${r.target === null || r.ratio <= (r.target ?? 1.05) ? "" : " (!)"}`,
    // The median of the iterations' own ratios (latencyRow), where the row has one.
    r.paired === undefined ? "-" : r.paired.toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(row(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(row(l));
}

export function writeResults(rows, meta) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
  return file;
}
