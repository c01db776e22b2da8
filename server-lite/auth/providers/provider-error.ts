// What identity providers answer with, independent of the protocol: the identity a login or a
// refresh established, and the ways talking to a provider fails. server errors are mapped in one
// place (provider-service.ts): unavailable → 503 PROVIDER_UNAVAILABLE, misconfigured → 502
// PROVIDER_MISCONFIGURED, refused → 401 (the user's input or the provider's answer was not accepted).

export interface ExternalIdentity {
  /** Stable id at the provider: the LDAP entry's DN, the OIDC `sub`. */
  subject: string;
  /** The name the user logs in with (LDAP user attribute, OIDC username claim). */
  username: string;
  groups: string[];
}

export type ProviderProblem = 'unavailable' | 'misconfigured' | 'refused';

export class ProviderError extends Error {
  readonly problem: ProviderProblem;
  constructor(problem: ProviderProblem, message: string) {
    super(message);
    this.name = 'ProviderError';
    this.problem = problem;
  }
}
