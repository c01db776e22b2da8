// The error body every `drover-*` stream target answers with (SPEC.md §10.1, ARCHITECTURE §4):
// `{"error":{"code","message"}}`. Fleet agents before protocol 1.1 answered the bare
// `{"code","message"}`; `readTargetError` reads both, so a newer server understands an older agent.
import * as z from 'zod';

export const targetErrorSchema = z.object({
  error: z.object({ code: z.string().min(1).max(64), message: z.string() }).loose(),
});

export type TargetErrorBody = z.infer<typeof targetErrorSchema>;

/** The body of an error answer. */
export function targetError(code: string, message: string): TargetErrorBody {
  return { error: { code, message } };
}

const legacySchema = z.object({ code: z.string().min(1).max(64), message: z.string().optional() });

/** Code and message of an error answer in the uniform or the legacy bare form; undefined for anything else. */
export function readTargetError(body: unknown): { code: string; message: string } | undefined {
  const uniform = targetErrorSchema.safeParse(body);
  if (uniform.success) return { code: uniform.data.error.code, message: uniform.data.error.message };
  const legacy = legacySchema.safeParse(body);
  if (legacy.success) return { code: legacy.data.code, message: legacy.data.message ?? '' };
  return undefined;
}

/** `CODE: message` for logs and recorded refusals; the status and a cut of the raw body when the body is no error answer. */
export function describeTargetError(status: number, body: unknown): string {
  const e = readTargetError(body);
  if (e) return `${e.code}: ${e.message}`;
  const raw = typeof body === 'string' ? body : JSON.stringify(body) ?? '';
  return `${status}${raw ? `: ${raw.slice(0, 300)}` : ''}`;
}
