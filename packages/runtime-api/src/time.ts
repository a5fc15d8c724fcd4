// CRI timestamps are int64 nanoseconds since the epoch; as bigint they keep full precision.

const NANOS_PER_MILLI = 1_000_000n;

/** Nanoseconds since the epoch to milliseconds (sub-millisecond part dropped). */
export function nanosToMillis(nanos: bigint): number {
  return Number(nanos / NANOS_PER_MILLI);
}

/** Nanoseconds since the epoch to a Date; 0 (the CRI's "unset") gives undefined. */
export function nanosToDate(nanos: bigint): Date | undefined {
  return nanos === 0n ? undefined : new Date(nanosToMillis(nanos));
}

export function millisToNanos(millis: number): bigint {
  return BigInt(Math.trunc(millis)) * NANOS_PER_MILLI;
}

export function dateToNanos(date: Date): bigint {
  return millisToNanos(date.getTime());
}
