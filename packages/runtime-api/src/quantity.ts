import { ErrorCode, NodeletError } from "./errors.js";
import type { V1Quantity } from "./k8s-types.js";

// Kubernetes quantity syntax: <sign><digits>[.<digits>]<suffix>, where the suffix is a binary
// SI one (Ki Mi Gi Ti Pi Ei), a decimal SI one (n u m "" k M G T P E) or an exponent (e3, E-2).
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const MULTIPLIERS: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** True when `value` is a valid Kubernetes quantity. */
export function isQuantity(value: unknown): value is V1Quantity {
  if (typeof value === "number") return Number.isFinite(value);
  return typeof value === "string" && QUANTITY.test(value.trim()) && value.trim() !== "";
}

/** The quantity in base units (cores, bytes): "500m" → 0.5, "64Mi" → 67108864. */
export function parseQuantity(value: V1Quantity): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw invalid(value);
    return value;
  }
  const match = QUANTITY.exec(value.trim());
  if (!match) throw invalid(value);
  const number = Number(match[1]);
  const suffix = match[2] ?? "";
  const multiplier = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : (MULTIPLIERS[suffix] as number);
  return number * multiplier;
}

/** The quantity in thousandths, rounded up as Kubernetes' MilliValue does ("0.1" → 100, "1" → 1000). */
export function quantityToMilli(value: V1Quantity): number {
  return Math.ceil(Math.round(parseQuantity(value) * 1e9) / 1e6);
}

/** The quantity as a whole number, rounded up as Kubernetes' Value does ("1.5Gi" bytes, "0.5" → 1). */
export function quantityToInt(value: V1Quantity): number {
  return Math.ceil(Math.round(parseQuantity(value) * 1e6) / 1e6);
}

function invalid(value: unknown): NodeletError {
  return new NodeletError(
    ErrorCode.InvalidArgument,
    `"${String(value)}" is not a quantity: use a number with an optional suffix, e.g. 500m, 2, 64Mi, 1G`,
  );
}
