// Versioned schema migrations, append-only: a released migration is never edited, a change is a
// new entry. The same versions will exist for PostgreSQL (ARCHITECTURE.md §7: one schema).
import { FLEET_MIGRATIONS, FLEET_SHARED_STATE } from '../fleet/fleet-schema.ts';
import { planTables, PLAN_NODE_CLOCKS } from '../plans/plan-schema.ts';

export interface Migration {
  version: number;
  description: string;
  sql: string;
  /** Run on this datastore only; the other records the version without running it. */
  only?: 'postgres' | undefined;
  /** PostgreSQL's own spelling, when the portable subset cannot say it (triggers); else schemaFor(sql). */
  postgres?: string;
}

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    description: 'tokens, clusters, nodes, agents',
    sql: `
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        uses_max INTEGER NOT NULL,
        uses INTEGER NOT NULL DEFAULT 0,
        cluster_id TEXT,
        labels TEXT NOT NULL DEFAULT '{}',
        revoked_at INTEGER
      );
      CREATE TABLE clusters (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        kubernetes_version TEXT
      );
      CREATE TABLE nodes (
        id TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL REFERENCES clusters(id),
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        facts TEXT NOT NULL DEFAULT '{}',
        removed_at INTEGER
      );
      CREATE INDEX nodes_cluster ON nodes(cluster_id);
      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL REFERENCES clusters(id),
        node_id TEXT NOT NULL REFERENCES nodes(id),
        hostname TEXT NOT NULL,
        roles TEXT NOT NULL,
        credential_hash TEXT NOT NULL,
        prev_credential_hash TEXT,
        credential_issued_at INTEGER NOT NULL,
        credential_expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        removed_at INTEGER,
        last_seen INTEGER,
        facts TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX agents_cluster ON agents(cluster_id);
    `,
  },
  {
    version: 2,
    description: 'users, user API tokens, cluster role bindings, audit chain, cluster facts',
    sql: `
      CREATE TABLE users (
        name TEXT PRIMARY KEY,
        global_role TEXT NOT NULL,
        password_hash TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE user_tokens (
        id TEXT PRIMARY KEY,
        user_name TEXT NOT NULL REFERENCES users(name),
        secret_hash TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER
      );
      CREATE INDEX user_tokens_user ON user_tokens(user_name);
      CREATE TABLE role_bindings (
        user_name TEXT NOT NULL REFERENCES users(name),
        cluster_id TEXT NOT NULL REFERENCES clusters(id),
        role TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_name, cluster_id, role)
      );
      CREATE INDEX role_bindings_cluster ON role_bindings(cluster_id);
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        user_name TEXT NOT NULL,
        idp TEXT NOT NULL,
        cluster_id TEXT,
        verb TEXT NOT NULL,
        path TEXT NOT NULL,
        status INTEGER NOT NULL,
        latency_ms REAL NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      ALTER TABLE clusters ADD COLUMN kube_facts TEXT;
    `,
  },
  {
    version: 3,
    description: 'audit: the user a global admin impersonated through the proxy',
    sql: `
      ALTER TABLE audit ADD COLUMN impersonated TEXT;
    `,
  },
  {
    version: 4,
    description: 'agents of deleted clusters, kept until each of their roles cleaned up its site',
    sql: `
      CREATE TABLE deleted_agents (
        agent_id TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL,
        cluster_name TEXT NOT NULL,
        roles TEXT NOT NULL,
        credential_hash TEXT NOT NULL,
        prev_credential_hash TEXT,
        keep_workloads INTEGER NOT NULL,
        uninstall INTEGER NOT NULL,
        deleted_at INTEGER NOT NULL,
        deleted_by TEXT NOT NULL,
        cleaned_roles TEXT NOT NULL DEFAULT '[]'
      );
      CREATE INDEX deleted_agents_cluster ON deleted_agents(cluster_id);
    `,
  },
  {
    version: 5,
    description: 'projects (named groups of namespaces of one cluster) and project role bindings',
    sql: `
      CREATE TABLE projects (
        name TEXT PRIMARY KEY,
        cluster_id TEXT NOT NULL REFERENCES clusters(id),
        namespaces TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL
      );
      CREATE INDEX projects_cluster ON projects(cluster_id);
      CREATE TABLE project_bindings (
        user_name TEXT NOT NULL REFERENCES users(name),
        project TEXT NOT NULL REFERENCES projects(name),
        role TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_name, project, role)
      );
      CREATE INDEX project_bindings_project ON project_bindings(project);
    `,
  },
  {
    version: 6,
    description: 'identity providers (LDAP, OIDC), their users and groups, group role bindings, the provider in audit rows',
    sql: `
      CREATE TABLE auth_providers (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        config TEXT NOT NULL,
        sealed_secret TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE external_users (
        user_name TEXT PRIMARY KEY REFERENCES users(name),
        provider TEXT NOT NULL,
        login TEXT NOT NULL,
        subject TEXT NOT NULL,
        refreshed_at INTEGER NOT NULL,
        sealed_refresh TEXT
      );
      CREATE INDEX external_users_provider ON external_users(provider);
      CREATE TABLE group_members (
        user_name TEXT NOT NULL REFERENCES users(name),
        group_name TEXT NOT NULL,
        PRIMARY KEY (user_name, group_name)
      );
      CREATE INDEX group_members_group ON group_members(group_name);
      CREATE TABLE group_bindings (
        group_name TEXT NOT NULL,
        cluster_id TEXT NOT NULL REFERENCES clusters(id),
        role TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (group_name, cluster_id, role)
      );
      CREATE INDEX group_bindings_cluster ON group_bindings(cluster_id);
      ALTER TABLE audit ADD COLUMN provider TEXT;
    `,
  },
  {
    version: 7,
    description: 'signed releases and agent upgrade rollouts (issue 16)',
    // Portable SQL (SQLite and PostgreSQL): TEXT and INTEGER columns, no AUTOINCREMENT, no JSON type.
    sql: `
      CREATE TABLE releases (
        version TEXT NOT NULL,
        arch TEXT NOT NULL,
        artifact TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        sums TEXT NOT NULL,
        signature TEXT NOT NULL,
        file TEXT NOT NULL,
        imported_at INTEGER NOT NULL,
        PRIMARY KEY (version, arch)
      );
      CREATE TABLE upgrade_rollouts (
        id TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        target TEXT NOT NULL,
        max_unavailable TEXT NOT NULL,
        canary INTEGER NOT NULL,
        state TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE upgrade_agents (
        rollout_id TEXT NOT NULL REFERENCES upgrade_rollouts(id),
        agent_id TEXT NOT NULL,
        state TEXT NOT NULL,
        canary INTEGER NOT NULL DEFAULT 0,
        from_version TEXT,
        bytes INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        since INTEGER NOT NULL,
        PRIMARY KEY (rollout_id, agent_id)
      );
    `,
  },
  {
    version: 8,
    description: 'connection history: agent tunnel connects and disconnects per cluster, with reasons (issue 20)',
    sql: `
      CREATE TABLE connection_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        cluster_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        role TEXT NOT NULL,
        session_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        at INTEGER NOT NULL,
        reason TEXT NOT NULL,
        remote TEXT
      );
      CREATE INDEX connection_events_cluster ON connection_events(cluster_id, at);
      CREATE INDEX connection_events_at ON connection_events(at);
    `,
  },
  {
    version: 9,
    description: 'HA replicas: live replicas, which replica holds which tunnel (newest wins by since, epoch bumped), singleton leases',
    // Portable SQL (SQLite and PostgreSQL): BIGINT for epoch milliseconds, no foreign keys so a
    // cluster's deletion never waits on the routing rows (they go with their tunnels).
    sql: `
      CREATE TABLE ha_replicas (
        id TEXT PRIMARY KEY,
        address TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        heartbeat_at BIGINT NOT NULL
      );
      CREATE TABLE ha_sessions (
        agent_id TEXT NOT NULL,
        role TEXT NOT NULL,
        cluster_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        replica_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        since BIGINT NOT NULL,
        epoch BIGINT NOT NULL DEFAULT 1,
        PRIMARY KEY (agent_id, role)
      );
      CREATE INDEX ha_sessions_cluster ON ha_sessions(cluster_id, role);
      CREATE INDEX ha_sessions_replica ON ha_sessions(replica_id);
      CREATE TABLE ha_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        epoch BIGINT NOT NULL DEFAULT 1
      );
    `,
  },
  {
    version: 10,
    description: 'node plans in the server database (issue 17, decision 1110): plans, per-node assignments and results, outbox sequence per agent, node clocks',
    // The same tables as plans.db (plans/plan-schema.ts), with `time_window` for the reserved word;
    // a SQLite server keeps its plans in plans.db; `server migrate` copies plans.db into these.
    sql: [planTables('time_window'), PLAN_NODE_CLOCKS].join('\n'),
    only: 'postgres',
  },
  {
    version: 11,
    description: 'agent upgrades across replicas (issue 17, decision 1111): the scheduler marks the agents it starts; release executables in chunks',
    sql: `
      ALTER TABLE upgrade_agents ADD COLUMN assigned INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE release_chunks (
        version TEXT NOT NULL,
        arch TEXT NOT NULL,
        seq INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (version, arch, seq)
      );
    `,
  },
  {
    version: 12,
    description: 'fleet data on PostgreSQL (issue 17, decision 1100): the tables of fleet.db and the shared change counters; SQLite keeps them in fleet.db',
    // fleet.db's migrations 1–5 (a later fleet migration is a new entry here too).
    sql: [...FLEET_MIGRATIONS.slice(0, 5), FLEET_SHARED_STATE].join('\n'),
    only: 'postgres',
  },
  {
    version: 13,
    description: 'authorisation generation: bumped in the same transaction as every write to bindings, group bindings and members, projects, project bindings, users (decision 1150)',
    // SQLite: one row made here, bumped by an UPDATE (an INSERT OR REPLACE in a trigger would take
    // the firing statement's OR IGNORE and skip the bump). PostgreSQL: no row until the first
    // write (an upsert), so a new database stays empty for the SQLite → PostgreSQL copy (sqlite-to-postgres.ts, which
    // leaves this table out: the target's triggers count its own writes).
    sql: `
      CREATE TABLE authz_generation (id INTEGER PRIMARY KEY, gen INTEGER NOT NULL);
      INSERT INTO authz_generation (id, gen) VALUES (1, 1);
      CREATE TRIGGER authz_gen_role_bindings_i AFTER INSERT ON role_bindings BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_role_bindings_u AFTER UPDATE ON role_bindings BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_role_bindings_d AFTER DELETE ON role_bindings BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_group_bindings_i AFTER INSERT ON group_bindings BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_group_bindings_u AFTER UPDATE ON group_bindings BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_group_bindings_d AFTER DELETE ON group_bindings BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_group_members_i AFTER INSERT ON group_members BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_group_members_u AFTER UPDATE ON group_members BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_group_members_d AFTER DELETE ON group_members BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_projects_i AFTER INSERT ON projects BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_projects_u AFTER UPDATE ON projects BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_projects_d AFTER DELETE ON projects BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_project_bindings_i AFTER INSERT ON project_bindings BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_project_bindings_u AFTER UPDATE ON project_bindings BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_project_bindings_d AFTER DELETE ON project_bindings BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_users_i AFTER INSERT ON users BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_users_u AFTER UPDATE ON users BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
      CREATE TRIGGER authz_gen_users_d AFTER DELETE ON users BEGIN UPDATE authz_generation SET gen = gen + 1 WHERE id = 1; END;
    `,
    postgres: `
      CREATE TABLE authz_generation (id BIGINT PRIMARY KEY, gen BIGINT NOT NULL);
      CREATE FUNCTION drover_authz_bump() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO authz_generation (id, gen) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET gen = authz_generation.gen + 1;
        RETURN NULL;
      END $$;
      CREATE TRIGGER authz_gen_role_bindings AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON role_bindings FOR EACH STATEMENT EXECUTE FUNCTION drover_authz_bump();
      CREATE TRIGGER authz_gen_group_bindings AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON group_bindings FOR EACH STATEMENT EXECUTE FUNCTION drover_authz_bump();
      CREATE TRIGGER authz_gen_group_members AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON group_members FOR EACH STATEMENT EXECUTE FUNCTION drover_authz_bump();
      CREATE TRIGGER authz_gen_projects AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON projects FOR EACH STATEMENT EXECUTE FUNCTION drover_authz_bump();
      CREATE TRIGGER authz_gen_project_bindings AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON project_bindings FOR EACH STATEMENT EXECUTE FUNCTION drover_authz_bump();
      CREATE TRIGGER authz_gen_users AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION drover_authz_bump();
    `,
  },
]);
