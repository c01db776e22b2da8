// zod schemas shared by several endpoints: labels (Kubernetes label syntax) and facts.
import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { valueDepth } from './http/json-depth.ts';

/** Kubernetes-style label key (optional DNS prefix + name) and value. */
export const labelKey = z
  .string()
  .max(253)
  .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'invalid label key');
export const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'invalid label value');

export const labelsSchema = z
  .record(labelKey, labelValue)
  .refine((l) => Object.keys(l).length <= LIMITS.maxLabels, `at most ${LIMITS.maxLabels} labels`);

/** How deep facts may nest (objects and arrays); JSON bodies as a whole are bounded by LIMITS.maxJsonDepth. */
export const MAX_FACTS_DEPTH = 8;

/** Serialized size of facts, or Infinity when they cannot be serialized (never throws). */
function factsBytes(f: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(f));
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

export const factsSchema = z
  .record(z.string().max(128), z.unknown())
  // Depth first (iterative): JSON.stringify of a deep value recurses and can overflow the stack.
  .refine((f) => valueDepth(f, MAX_FACTS_DEPTH) <= MAX_FACTS_DEPTH, `facts nested deeper than ${MAX_FACTS_DEPTH} levels`)
  .refine((f) => factsBytes(f) <= LIMITS.maxFactsBytes, `facts larger than ${LIMITS.maxFactsBytes} bytes`);
