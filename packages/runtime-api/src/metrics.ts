// Metric registration shared by every package. runtime-api does not depend on prom-client: the
// caller passes the metric class (prom-client's Counter, Gauge, Histogram, Summary) and the
// registry, and these helpers only make sure a name is registered once per registry.

/** What registerOnce needs of a metrics registry (prom-client's Registry fits). */
export interface MetricRegistry {
  getSingleMetric(name: string): unknown;
}

/**
 * The metric called `name` in `registry`, created (and registered by `create`) on first use: every
 * package records the kubelet's metrics into a registry its caller passes, possibly shared by
 * several components, and a name may be registered only once.
 */
export function registerOnce<M>(registry: MetricRegistry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

/**
 * The metric `config.name` in `registry`, or a new `Metric(config)` registered there:
 * `registerMetric(registry, Counter, { name, help, labelNames })` with prom-client's classes.
 * Give the variable its labelled type (`Counter<"plugin_name">`) to have the labels checked.
 */
export function registerMetric<R extends MetricRegistry, C extends { name: string }, M>(
  registry: R,
  Metric: new (config: C & { registers: R[] }) => M,
  config: C,
): M {
  return registerOnce(registry, config.name, () => new Metric({ ...config, registers: [registry] }));
}

/** Prometheus' default histogram buckets, which the kubelet uses as metrics.DefBuckets. */
export const DEFAULT_METRIC_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** `count` buckets from `start`, each `factor` times the one before (as prom-client computes them). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const buckets: number[] = [];
  for (let value = start; buckets.length < count; value *= factor) buckets.push(value);
  return buckets;
}

/** The kubelet's buckets for runtime operation durations: ExponentialBuckets(0.005, 2.5, 14). */
export const OPERATION_DURATION_BUCKETS: readonly number[] = exponentialBuckets(0.005, 2.5, 14);
