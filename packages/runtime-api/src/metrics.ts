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
