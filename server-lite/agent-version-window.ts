// The agent support window (docs/decisions/1011-agent-version-window.md): a server supports
// agents of its own major version from two minor versions back up to its own minor, any patch
// (server 0.4.2 takes agents 0.2.0 … 0.4.x). An agent older than that, newer than the server, or
// of another major is refused at registration and at connect with a message naming both versions.
// Pure: the server's registration and tunnel endpoints apply it.

/** How many minor versions back a server still supports. */
export const SUPPORTED_MINORS_BACK = 2;

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

/** `MAJOR.MINOR.PATCH` with an optional `-pre` / `+build` tail (ignored here); undefined otherwise. */
export function parseSemVer(text: string): SemVer | undefined {
  const m = /^v?(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(?:[-+][0-9A-Za-z.+-]{0,128})?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** A release's version; undefined for anything else, including development builds (0.0.0…). */
function releaseVersion(text: string): SemVer | undefined {
  const v = parseSemVer(text);
  return v === undefined || (v.major === 0 && v.minor === 0 && v.patch === 0) ? undefined : v;
}

export type WindowVerdict =
  | { ok: true; checked: boolean }
  | { ok: false; reason: 'too-old' | 'too-new' | 'other-major'; message: string };

/** The range a server supports, for messages: `0.2.0 to 0.4.x`. */
export function supportedRange(server: SemVer): string {
  return `${server.major}.${Math.max(0, server.minor - SUPPORTED_MINORS_BACK)}.0 to ${server.major}.${server.minor}.x`;
}

/**
 * Whether a server of version `serverVersion` accepts an agent of `agentVersion`. A version that
 * is not semantic (`test`, an agent too old to say) or is a development build (0.0.0, e.g. the
 * in-process server's default `0.0.0-dev`) is not checked (`checked: false`): the window guards
 * compatibility between releases, it is not authentication.
 */
export function checkAgentVersion(agentVersion: string | undefined, serverVersion: string): WindowVerdict {
  const server = releaseVersion(serverVersion);
  const agent = agentVersion === undefined ? undefined : releaseVersion(agentVersion);
  if (server === undefined || agent === undefined) return { ok: true, checked: false };
  const range = supportedRange(server);
  const refuse = (reason: 'too-old' | 'too-new' | 'other-major', why: string): WindowVerdict => ({
    ok: false,
    reason,
    message: `agent version ${agentVersion} is ${why} server version ${serverVersion}, which supports agents ${range}`,
  });
  if (agent.major !== server.major) return refuse('other-major', `of another major version than`);
  if (agent.minor > server.minor) return refuse('too-new', 'newer than');
  if (agent.minor < server.minor - SUPPORTED_MINORS_BACK) return refuse('too-old', 'too old for');
  return { ok: true, checked: true };
}
