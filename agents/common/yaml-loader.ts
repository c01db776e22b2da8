// yaml, loaded on first use (issue 25, decision 1221): an agent parses YAML only for a kubeconfig
// and for node plans dropped in its plan directory, so an agent with neither never evaluates the
// library. Synchronous, because the local plan scan is. In the packaged executable
// packaging/bundle.ts replaces this file with a require of the SEA asset that carries yaml.
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let yaml: typeof Yaml | undefined;

export function loadYaml(): typeof Yaml {
  return (yaml ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
