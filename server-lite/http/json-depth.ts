// Nesting depth of a JSON text, measured without parsing it and without recursion, so a body made
// of thousands of `[` is refused before JSON.parse builds it or a validator (or JSON.stringify)
// walks it recursively and overflows the stack (issue 14: 4,311 levels answered 500 INTERNAL).
// Brackets inside strings do not count; escapes inside strings are skipped. The text need not be
// valid JSON: anything malformed is left for JSON.parse to refuse.

/** The deepest nesting of objects and arrays in `text`, or `limit + 1` as soon as it passes `limit`. */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return limit + 1;
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return max;
}

/** Depth of an already-parsed value (iterative), `limit + 1` as soon as it passes `limit`. */
export function valueDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    const here = d + 1;
    if (here > max) {
      max = here;
      if (max > limit) return limit + 1;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, here]);
  }
  return max;
}
