// Public API of the Drover tunnel protocol (SPEC.md). Everything another folder may use is
// exported here; import from 'protocol/index.ts', never from the files behind it. This surface
// only grows: nothing named here is renamed or removed.
//
// Typical use (agent side, dialling):
//   const ws = new WebSocket(url + '/v1/connect', offeredSubprotocols(), { maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false });
//   const s = await openTunnel(ws, { side: 'client', peer: { role: 'cluster', version } });
//   s.on('stream', (st) => …); s.on('message', (m) => …); s.on('close', (info) => …);
// (attachWebSocket must run in the 'open' tick, or after `ws.pause()` there: a HELLO that arrives
// before it is attached is lost.) Server side: choose the subprotocol with
// `selectSubprotocol(offered)` in the upgrade handler (or answer `versionRefusal(offered).httpResponse`),
// then `attachWebSocket(ws, { side: 'server', … })` inside the handleUpgrade callback.
// Streams are Duplexes: handle their 'error' (a closing session errors every open stream).

// Sessions and streams
export { Session } from './session.ts';
export type { SessionOptions, SessionSide, SessionState, SessionCloseInfo, SessionStats, SessionEvents, ProtocolLogger } from './session-types.ts';
export { TunnelStream } from './tunnel-stream.ts';
export type { TunnelStreamStats } from './tunnel-stream.ts';

// Transports
export type { FrameTransport } from './transport.ts';
export { attachWebSocket, openTunnel, WebSocketTransport } from './ws-binding.ts';
export type { WebSocketLike, WebSocketSessionOptions } from './ws-binding.ts';
export { systemClock, wallClock } from './clock.ts';
export type { Clock, TimerHandle } from './clock.ts';

// Versions and negotiation
export {
  SUPPORTED_MAJORS, CURRENT_MINOR, SUBPROTOCOL_PREFIX, subprotocolFor, describeVersions, offeredSubprotocols,
  majorFromSubprotocol, parseOfferedSubprotocols, selectSubprotocol, versionRefusal,
} from './versions.ts';
export type { VersionRefusal } from './versions.ts';

// Registries
export { CAPABILITIES, capabilityFromWire, defaultCapabilities, advertisedCapabilities, commonCapabilities } from './capabilities.ts';
export type { CapabilityName, CapabilityInfo } from './capabilities.ts';
export { MESSAGE_KINDS, messageKindFromWire, checkMessage, errorMessageSchema, heartbeatSchema, factsSchema } from './messages.ts';
export type { MessageKind, MessageBody, ControlMessage, MessageKindInfo, MessageCheck, ErrorMessageBody, HeartbeatBody, FactsBody } from './messages.ts';
export { APPLICATION_CLOSE_RANGE, APPLICATION_CLOSE_CODES } from './errors.ts';
export { ERROR_CODES, CLOSE_CODES, PROTOCOL_VIOLATION_CLOSE_CODES, TunnelError, errorCodeFromWire, closeCodeFor, toTunnelError } from './errors.ts';
export type { ErrorCode, ErrorCodeInfo } from './errors.ts';

// Wire format (for tools, vectors and other-language peers' tests)
export { FRAME_TYPES, FLAGS, PING_PAYLOAD_BYTES } from './frame.ts';
export type { Frame, FrameTypeName, Hello, PeerInfo } from './frame.ts';
export { encodeFrame, decodeFrame, clampMessage } from './codec.ts';
export type { DecodeLimits } from './codec.ts';

// Limits
export * as limits from './limits.ts';
export { DEFAULT_LIMITS, MAX_WS_MESSAGE, resolveLimits } from './limits.ts';
export type { SessionLimits } from './limits.ts';

// Test support (deterministic clock, in-memory transport pair) for this and other packages' tests
export { ManualClock } from './manual-clock.ts';
export { MemoryTransport, memoryTransportPair } from './memory-transport.ts';
export type { FrameSink } from './memory-transport.ts';

// HTTP/1.1 over a stream (Kubernetes proxy: server sends, cluster agent serves)
export { requestOverStream, createStreamHttpServer, HTTP_TARGET_PREFIX, KUBE_API_TARGET } from './http-over-stream.ts';
export type { StreamHttpRequest, StreamHttpResult, StreamHttpHandlers, StreamHttpServer } from './http-over-stream.ts';
export { HttpStreamPool, HTTP_POOL_DEFAULTS, KEEPALIVE_METADATA, KUBE_IDENTITY_HEADERS, retryable } from './http-stream-pool.ts';
export type { HttpStreamPoolOptions, HttpStreamPoolStats, PooledExchange } from './http-stream-pool.ts';
export { IdlePool } from './idle-pool.ts';
export type { IdlePoolOptions } from './idle-pool.ts';
export { sessionPair, whenReady, bothReady, rawSession, RecordingTransport } from './session-pair.ts';
export type { SessionPair } from './session-pair.ts';

// Fleet manifest sets: how the server and the agent name the same set (delta deliveries, decision 0755)
export { canonicalJson, manifestRevision, sha256Hex } from './manifest-digest.ts';
export { CLUSTER_AGENT_TARGETS, NODE_AGENT_TARGETS, AGENT_SETTINGS_TARGET, KUBE_IDENTITY_METADATA, RBAC_MANAGED_LABEL, RBAC_MANAGED_VALUE, EXCEPT_NAMESPACES_ANNOTATION, PROTECTED_NAMESPACE_LABEL } from './cluster-targets.ts';

// Wire contracts of the stream targets (SPEC.md §10.1): zod schemas both server and agents parse with
export { targetErrorSchema, targetError, readTargetError, describeTargetError } from './contracts/target-error.ts';
export type { TargetErrorBody } from './contracts/target-error.ts';
export { RBAC_PATH, MAX_RBAC_SET_BYTES, RBAC_API_VERSION, RBAC_KINDS, rbacObjectSchema, rbacSetSchema, rbacAppliedSchema, RBAC_ERROR_CODES } from './contracts/rbac.ts';
export type { RbacKind, RbacObject, RbacApplied } from './contracts/rbac.ts';
export { FACTS_PATH, MAX_FACTS_NODES, MAX_FACTS_WARNINGS, MAX_FACTS_WARNING_MESSAGE, kubeFactsSchema, kubeFactsNodeSchema, kubeFactsWarningSchema, FACTS_ERROR_CODES } from './contracts/facts.ts';
export type { KubeFacts } from './contracts/facts.ts';
export {
  FLEET_TARGET, FLEET_PATHS, AGENT_DEPLOYMENT_STATES, SERVER_DEPLOYMENT_STATES, FLEET_DEPLOYMENT_STATES, comparePatchSchema, deploymentOptionsSchema, kubeObjectSchema, desiredFullSchema, desiredDeltaSchema,
  desiredBodySchema, desiredAckSchema, resumeAnswerSchema, removeAnswerSchema, deploymentStatusSchema, outboxRowSchema, outboxAnswerSchema, outboxAckSchema,
  outboxAckAnswerSchema, FLEET_ENDPOINT_ERRORS,
} from './contracts/fleet.ts';
export type { DeploymentOptionsWire, ComparePatchWire, DesiredFullWire, DesiredDeltaWire, ResumeAnswer, OutboxRowWire, OutboxAck } from './contracts/fleet.ts';
export { AGENT_ROLES } from './contracts/roles.ts';
export type { AgentRole } from './contracts/roles.ts';

// Remote shell on a node agent (issue 15): the `drover-shell` stream's frames, relayed by the server
export { SHELL_FRAME, SHELL_TARGET, SHELL_METADATA, MAX_SHELL_FRAME, ShellFrameDecoder, encodeShellFrame, encodeShellData, resizeFrame, exitFrame, readResize, readExit, clampSize } from './shell-frames.ts';
export type { ShellFrame, ShellFrameType } from './shell-frames.ts';

// Who a Drover caller is on a cluster (server proxy and the cluster agent's local endpoint, issue 18)
export {
  KUBE_USER_PREFIX, AUTHENTICATED_GROUP, kubeUser, globalGroup, clusterGroup, kubeIdentityOf, readImpersonation,
  checkImpersonationRequest, kubeVerb,
} from './kube-identity.ts';
export type { KubeIdentity, ImpersonationHeaders, ImpersonationTarget, ImpersonationCheck } from './kube-identity.ts';
export type { AccessSet, AccessToken, AccessUser, EndpointSettings } from './access-set.ts';
export { NODE_PLAN_TARGET, PLAN_API_VERSION, PLAN_STATES, TERMINAL_PLAN_STATES, PLAN_LIMITS, PlanInvalid, checkPlan, planChecksum, planSteps, stepLabel, durationMs } from './node-plan.ts';
export type { Plan, PlanFile, PlanInstruction, PlanPeriodic, PlanProbe, PlanState, PlanStep } from './node-plan.ts';
export { BodyTooLarge, readBounded } from './bounded-read.ts';
