// Plain-YAML bundles with Fleet's overlays: `yaml.overlays: [a, b]` applies overlays/a then
// overlays/b. In an overlay, `X_patch.yaml` is a JSON merge patch (RFC 7386) onto the objects of
// X.yaml with the same kind and name (all of them when the patch names none); any other file adds
// or replaces the file of the same path.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { insideBundle, listManifestFiles, readBounded } from './bundle-files.ts';
import { FleetError } from './errors.ts';
import { parseManifests, type JsonObject } from './manifest-set.ts';

function isMap(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386: null deletes, maps merge, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return patch;
  const out: JsonObject = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function sameObject(patch: JsonObject, object: JsonObject): boolean {
  const pm = isMap(patch.metadata) ? patch.metadata : {};
  const om = isMap(object.metadata) ? object.metadata : {};
  if (typeof patch.kind === 'string' && patch.kind !== object.kind) return false;
  if (typeof pm.name === 'string' && pm.name !== om.name) return false;
  return true;
}

/** Reads the bundle's manifests with overlays applied, in file order; `bundle` names it in errors. */
export async function renderPlainYaml(dir: string, overlays: readonly string[], bundle: string): Promise<JsonObject[]> {
  const files = new Map<string, JsonObject[]>();
  for (const rel of await listManifestFiles(dir)) {
    files.set(rel, parseManifests(await readBounded(join(dir, rel), rel, bundle), `${bundle}/${rel}`));
  }
  for (const overlay of overlays) {
    const overlayDir = await insideBundle(dir, join('overlays', overlay), bundle).catch((e: unknown) => {
      if (e instanceof FleetError && e.code === 'BUNDLE_NOT_FOUND') {
        throw new FleetError('BUNDLE_NOT_FOUND', `bundle ${bundle}: overlay "${overlay}" has no directory overlays/${overlay}`, { bundle });
      }
      throw e;
    });
    for (const rel of await listManifestFiles(overlayDir)) {
      const label = `${bundle}/overlays/${overlay}/${rel}`;
      const objects = parseManifests(await readBounded(join(overlayDir, rel), label, bundle), label);
      const patchOf = /^(.*)_patch(\.(?:ya?ml|json))$/i.exec(rel);
      if (!patchOf) {
        files.set(rel, objects);
        continue;
      }
      const stem = patchOf[1] ?? '';
      const targetRel = [`${stem}.yaml`, `${stem}.yml`, `${stem}.json`].find((r) => files.has(r));
      if (targetRel === undefined) {
        throw new FleetError('MANIFEST_INVALID', `${label}: patches ${stem}.yaml, which the bundle does not have`, { bundle, file: label });
      }
      let patched = files.get(targetRel) ?? [];
      for (const patch of objects) {
        patched = patched.map((o) => (sameObject(patch, o) ? (mergePatch(o, patch) as JsonObject) : o));
      }
      files.set(targetRel, patched);
    }
  }
  return [...files.keys()].sort().flatMap((k) => files.get(k) ?? []);
}

export function hasFile(dir: string, name: string): boolean {
  return existsSync(join(dir, name));
}
