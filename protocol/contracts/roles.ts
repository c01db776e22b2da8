// The agent roles, as the server and the agents name them (HELLO `role`, `X-Drover-Role` at the
// upgrade, registration, `drover agent run --roles`): defined once for both sides.
export const AGENT_ROLES = Object.freeze(['cluster', 'node', 'fleet'] as const);
export type AgentRole = (typeof AGENT_ROLES)[number];
