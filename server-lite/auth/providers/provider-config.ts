// What an identity provider is configured with (issue 18; docs/identity.md): the shapes the API
// accepts for `drover auth provider add ldap|oidc NAME …`, validated at the boundary. The secret
// (LDAP bind password, OIDC client secret) travels beside the config and is stored sealed
// (sealed-value.ts), never in the config and never in an answer.
import { z } from 'zod';
import { isAttributeName } from './ldap-filter.ts';

export const PROVIDER_KINDS = ['ldap', 'oidc'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Provider names appear in user names (`NAME:alice`) and URLs: short, lowercase, no `:`. */
export const providerName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'lowercase letters, digits and -, at most 32');

/** Names a provider may not take: the identity-provider values of built-in callers (auth/caller.ts). */
export const RESERVED_PROVIDER_NAMES: readonly string[] = ['local', 'admin-token', 'agent-credential', 'none', 'anonymous'];

const pem = z.string().max(64 * 1024).regex(/-----BEGIN CERTIFICATE-----/, 'a PEM certificate');
const attribute = z.string().refine(isAttributeName, 'an LDAP attribute name');
/** An extra filter an admin adds to the user or group search, e.g. (objectClass=inetOrgPerson). */
const filter = z.string().max(1024).regex(/^\(.*\)$/s, 'an LDAP filter in parentheses');
const dn = z.string().min(1).max(1024);
/** Group membership is re-read at least this often (seconds); tokens older than that re-check. */
const groupTtl = z.int().min(1).max(7 * 24 * 3600);

export const ldapConfigSchema = z
  .object({
    kind: z.literal('ldap'),
    url: z.string().regex(/^ldaps?:\/\/[^/\s]+\/?$/, 'ldap://HOST[:PORT] or ldaps://HOST[:PORT]'),
    /** ldap:// only: upgrade with StartTLS before anything is sent (refused if the server cannot). */
    startTls: z.boolean(),
    /** PEM of the CA that signs the LDAP server's certificate (null: the system CAs). */
    caPem: pem.nullable(),
    bindDn: dn,
    userBase: dn,
    userAttribute: attribute,
    userFilter: filter.nullable(),
    groupBase: dn,
    groupMemberAttribute: attribute,
    groupNameAttribute: attribute,
    groupFilter: filter.nullable(),
    groupTtlSeconds: groupTtl,
  })
  .strict()
  .refine((c) => !(c.startTls && c.url.startsWith('ldaps:')), 'StartTLS is for ldap:// URLs; ldaps:// is TLS already')
  .refine((c) => c.startTls || c.url.startsWith('ldaps:'), 'passwords never go over plain LDAP: use ldaps:// or StartTLS');

export const oidcConfigSchema = z
  .object({
    kind: z.literal('oidc'),
    issuer: z.url().max(1024).regex(/^https:\/\//, 'an https:// issuer URL'),
    clientId: z.string().min(1).max(256),
    /** PEM of the CA that signs the provider's certificate (null: the system CAs). */
    caPem: pem.nullable(),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/)).max(20),
    usernameClaim: z.string().min(1).max(64),
    groupsClaim: z.string().min(1).max(64),
    groupTtlSeconds: groupTtl,
  })
  .strict();

export type LdapConfig = z.infer<typeof ldapConfigSchema>;
export type OidcConfig = z.infer<typeof oidcConfigSchema>;
export type ProviderConfig = LdapConfig | OidcConfig;

export const DEFAULT_GROUP_TTL_SECONDS = 15 * 60;
