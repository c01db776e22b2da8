// zod schemas shared by several endpoints: labels (Kubernetes label syntax) and facts.
import { z } from 'zod';
import { LIMITS } from './limits.ts';

/** Kubernetes-style label key (optional DNS prefix + name) and value. */
export const labelKey = z
  .string()
  .max(253)
  .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'invalid label key');
export const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'invalid label value');

export const labelsSchema = z
  .record(labelKey, labelValue)
  .refine((l) => Object.keys(l).length <= LIMITS.maxLabels, `at most ${LIMITS.maxLabels} labels`);

export const factsSchema = z
  .record(z.string().max(128), z.unknown())
  .refine((f) => JSON.stringify(f).length <= LIMITS.maxFactsBytes, `facts larger than ${LIMITS.maxFactsBytes} bytes`);
