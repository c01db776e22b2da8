// Registers the server-side command groups (server, token, cluster, identity) in one call, so
// adding a server-admin command never needs another edit of cli/program.ts.
import type { Command } from 'commander';
import { registerServer } from './server.ts';
import { registerToken } from './token.ts';
import { registerCluster } from './cluster.ts';
import { registerIdentity } from './identity.ts';
import { registerClusterEndpoint } from './cluster-endpoint.ts';
import { registerServerAccess } from './server-ca.ts';

export function registerServerAdmin(program: Command): void {
  registerServer(program);
  registerServerAccess(program);
  registerToken(program);
  registerCluster(program);
  registerClusterEndpoint(program);
  registerIdentity(program);
}
