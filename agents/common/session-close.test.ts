import t from 'tap';
import { describeClose } from './session-close.ts';
import type { SessionCloseInfo } from '../../protocol/index.ts';

const info = (over: Partial<SessionCloseInfo>): SessionCloseInfo => ({ code: 'HANDSHAKE_FAILED', closeCode: 4001, message: 'x', remote: true, retryable: true, ...over });

t.test('session close: server-lite 4501 "credential revoked" is CREDENTIAL_REVOKED', async (t) => {
  t.equal(describeClose(info({ code: 'TRANSPORT_CLOSED', closeCode: 4501 }), 4501, 'credential revoked').code, 'CREDENTIAL_REVOKED');
  t.equal(describeClose(info({ code: 'FLOW_CONTROL_ERROR', closeCode: 4003 }), 4003, 'credential revoked').code, 'TUNNEL_CLOSED', 'a protocol close code is never read as the server revoking');
});

t.test('session close: server-lite 4500 "superseded" is TUNNEL_SUPERSEDED', async (t) => {
  t.equal(describeClose(info({ code: 'TRANSPORT_CLOSED', closeCode: 4500 }), 4500, 'superseded by a newer connection').code, 'TUNNEL_SUPERSEDED');
});

t.test('session close: the protocol meaning stands when the reason is not the server one', async (t) => {
  const e = describeClose(info({}), 4001, 'no HELLO within 10000 ms');
  t.equal(e.code, 'TUNNEL_CLOSED');
  t.match(e.message, 'HANDSHAKE_FAILED');
  t.match(describeClose(info({ code: 'TRANSPORT_CLOSED', closeCode: 1006 }), 1006, '').message, 'connection lost');
});

t.test('session close: server-lite 4502 "cluster deleted" is CLUSTER_DELETED (the agent cleans up)', async (t) => {
  t.equal(describeClose(info({ code: 'TRANSPORT_CLOSED', closeCode: 4502 }), 4502, 'cluster deleted').code, 'CLUSTER_DELETED');
});

t.test('session close: the server refusing our version at HELLO (4000) is AGENT_VERSION_UNSUPPORTED with its message', async (t) => {
  const message = 'agent version 0.3.0 is newer than server version 0.2.0, which supports agents 0.0.0 to 0.2.x';
  const e = describeClose(info({ code: 'UNSUPPORTED_VERSION', closeCode: 4000, message, retryable: false }), 4000, message);
  t.equal(e.code, 'AGENT_VERSION_UNSUPPORTED');
  t.match(e.message, message);
  t.equal(describeClose(info({ code: 'UNSUPPORTED_VERSION', closeCode: 4000, remote: false }), 4000, 'x').code, 'TUNNEL_CLOSED', 'our own refusal of the server is not the window');
});
