// Protocol versions this build speaks. The WebSocket subprotocol names the major version
// (`drover.v1`); the minor version and capabilities travel in the HELLO exchange (SPEC.md).

/** Major versions this build accepts, newest first. The server keeps the previous major too. */
export const SUPPORTED_MAJORS: readonly number[] = Object.freeze([1]);

/** Minor version of the newest major that this build implements. */
export const CURRENT_MINOR = 0;

export const SUBPROTOCOL_PREFIX = 'drover.v';

/** The WebSocket subprotocol token for a major version, e.g. `drover.v1`. */
export function subprotocolFor(major: number): string {
  return `${SUBPROTOCOL_PREFIX}${major}`;
}

/** Human-readable versions for `drover version`, e.g. `["1.0"]`. */
export function describeVersions(): string[] {
  return SUPPORTED_MAJORS.map((major, i) => (i === 0 ? `${major}.${CURRENT_MINOR}` : `${major}`));
}
