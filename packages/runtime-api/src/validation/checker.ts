// The collector of FieldErrors and its typed reads, and how values appear in messages.

import { isQuantity, parseQuantity } from "../quantity.js";
import { SIMPLE_KEY } from "./constants.js";

/** One problem in a pod, at a Kubernetes-style path: `spec.containers[1].resources.limits.memory`. */
export interface FieldError {
  /** Path of the offending field; "" for the pod itself. */
  field: string;
  /** What is wrong and what is expected. */
  message: string;
}

export type Obj = Record<string, unknown>;

/** A non-null, non-array object: a JSON or YAML mapping, whose fields can be read by name. */
export function isRecord(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

/** The value as an error message shows it: `"abc"`, `42`, `null`, `an array`. */
export function show(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return quote(value);
    case "number":
    case "boolean":
      return String(value);
    case "object":
      return "an object";
    default:
      return `a ${typeof value}`;
  }
}

export function listOf(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(", ");
}

export function child(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** A map key in a path: `.memory` when it reads as a name, else `[example.com/gpu]` as Kubernetes writes it. */
export function key(path: string, name: string): string {
  return SIMPLE_KEY.test(name) ? `${path}.${name}` : `${path}[${name}]`;
}

export function podLabel(pod: unknown): string {
  const metadata = isRecord(pod) ? pod.metadata : undefined;
  if (!isRecord(metadata) || typeof metadata.name !== "string" || metadata.name === "") return "invalid pod";
  const ns =
    typeof metadata.namespace === "string" && metadata.namespace !== "" ? metadata.namespace : "default";
  const clip = (s: string): string => (s.length > 253 ? `${s.slice(0, 253)}...` : s);
  return `invalid pod "${clip(ns)}/${clip(metadata.name)}"`;
}

// The collector and its typed reads. Each read reports a wrong type and returns undefined, so
// callers go on with what is usable.

export interface IntegerRange {
  min: number;
  max?: number;
  required?: boolean;
}

export class Checker {
  readonly errors: FieldError[] = [];

  fail(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  object(value: unknown, field: string, required = false): Obj | undefined {
    if (value === undefined) {
      if (required) this.fail(field, "is required (an object)");
      return undefined;
    }
    if (!isRecord(value)) {
      this.fail(field, `must be an object, got ${show(value)}`);
      return undefined;
    }
    return value;
  }

  array(value: unknown, field: string, required = false): unknown[] | undefined {
    if (value === undefined) {
      if (required) this.fail(field, "is required (a list)");
      return undefined;
    }
    if (!Array.isArray(value)) {
      this.fail(field, `must be a list, got ${show(value)}`);
      return undefined;
    }
    return value;
  }

  /** Each item of a list of objects; items that are not objects are reported and skipped. */
  objects(
    value: unknown,
    field: string,
    each: (item: Obj, path: string, i: number) => void,
  ): unknown[] | undefined {
    const list = this.array(value, field);
    list?.forEach((item, i) => {
      const object = this.object(item, index(field, i), true);
      if (object) each(object, index(field, i), i);
    });
    return list;
  }

  /** A string; `required` also rejects "". */
  string(value: unknown, field: string, required = false): string | undefined {
    if (value === undefined) {
      if (required) this.fail(field, "is required (a non-empty string)");
      return undefined;
    }
    if (typeof value !== "string") {
      this.fail(field, `must be a string, got ${show(value)}`);
      return undefined;
    }
    if (required && value === "") {
      this.fail(field, "is required (a non-empty string), got an empty string");
      return undefined;
    }
    return value;
  }

  boolean(value: unknown, field: string): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") {
      this.fail(field, `must be true or false, got ${show(value)}`);
      return undefined;
    }
    return value;
  }

  integer(value: unknown, field: string, range: IntegerRange): number | undefined {
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    const expected =
      range.max === undefined
        ? `an integer of at least ${range.min}`
        : `an integer from ${range.min} to ${max}`;
    if (value === undefined) {
      if (range.required) this.fail(field, `is required (${expected})`);
      return undefined;
    }
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.fail(field, `must be ${expected}, got ${show(value)}`);
      return undefined;
    }
    if (value < range.min || value > max) {
      this.fail(field, `must be ${expected}, got ${value}`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(
    value: unknown,
    field: string,
    allowed: readonly T[],
    required = false,
  ): T | undefined {
    if (value === undefined) {
      if (required) this.fail(field, `is required (one of ${listOf(allowed)})`);
      return undefined;
    }
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      this.fail(field, `${show(value)} is not supported; expected one of ${listOf(allowed)}`);
      return undefined;
    }
    return value as T;
  }

  stringArray(value: unknown, field: string): string[] | undefined {
    const list = this.array(value, field);
    if (!list) return undefined;
    let ok = true;
    list.forEach((item, i) => {
      if (typeof item !== "string") {
        this.fail(index(field, i), `must be a string, got ${show(item)}`);
        ok = false;
      }
    });
    return ok ? (list as string[]) : undefined;
  }

  /** A map of string values (labels, annotations); returns the well-typed entries. */
  stringMap(value: unknown, field: string): [string, string][] {
    const map = this.object(value, field);
    if (!map) return [];
    const entries: [string, string][] = [];
    for (const [name, item] of Object.entries(map)) {
      if (typeof item === "string") entries.push([name, item]);
      else this.fail(key(field, name), `must be a string, got ${show(item)}`);
    }
    return entries;
  }

  /** Runs a name check when the value is a string; `required` as for string(). */
  name(
    value: unknown,
    field: string,
    problem: (text: string) => string | undefined,
    required = false,
  ): string | undefined {
    const text = this.string(value, field, required);
    if (text === undefined || text === "") return text;
    const message = problem(text);
    if (message !== undefined) this.fail(field, message);
    return text;
  }

  quantity(value: unknown, field: string): number | undefined {
    if (value === undefined) return undefined;
    if (!isQuantity(value)) {
      const shown = typeof value === "string" ? quote(value) : show(value);
      this.fail(field, `${shown} is not a quantity (e.g. 500m, 64Mi, 1G)`);
      return undefined;
    }
    const amount = parseQuantity(value);
    if (amount < 0) {
      this.fail(field, `must not be negative, got ${show(value)}`);
      return undefined;
    }
    return amount;
  }

  /** Exactly one of `names` set in `object`; returns the one set, if only one is. */
  exactlyOne<T extends string>(object: Obj, field: string, names: readonly T[], what: string): T | undefined {
    const set = names.filter((n) => object[n] !== undefined);
    if (set.length === 1) return set[0];
    if (set.length === 0) this.fail(field, `must specify exactly one ${what}: ${names.join(", ")}`);
    else this.fail(field, `must specify exactly one ${what}, got ${set.length}: ${set.join(", ")}`);
    return undefined;
  }
}
