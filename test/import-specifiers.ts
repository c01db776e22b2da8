// The module specifiers a TypeScript file imports (for the import-rule tests; a scanner, not a parser).

/** Every module specifier in import/export-from statements, side-effect imports and import(). */
export function specifiers(code: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of code.matchAll(re)) out.push((m[1] ?? m[2]) as string);
  return out;
}
