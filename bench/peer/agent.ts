// The agent-side child process of the benchmark: starts the targets, connects the tunnel's
// agent end when given a URL, and reports its ports as one JSON line on stdout. Running it as
// its own process puts the two ends on the two cores, as on a real server and device. It exits
// when its stdin closes, so a crashed driver never leaves it behind.
//   node bench/peer/agent.ts [TUNNEL_URL]

import net from 'node:net';
import { pipeline } from 'node:stream';
import type { Duplex } from 'node:stream';
import { startTargets, sinkOn, sourceOn, stallOn } from './targets.ts';
import { loadBinding, TARGETS } from '../tunnel/harness.ts';
import type { StreamHandler, TunnelAgentSide, TunnelBinding } from '../tunnel/harness.ts';
import { echo } from './targets.ts';

export interface PeerReport {
  readonly tcpSink: number;
  readonly tcpSource: number;
  readonly tcpStall: number;
  readonly wsSink: number;
  readonly wsSource: number;
  readonly httpEcho: number;
  /** "connected", "not requested", or why the tunnel's agent end could not come up. */
  readonly tunnel: string;
}

/** Routes a stream the server opened by its target (tunnel/harness.ts TARGETS). */
function router(binding: TunnelBinding): StreamHandler {
  return (target, stream) => onStream(binding, target, stream);
}

function onStream(binding: TunnelBinding, target: string, stream: Duplex): void {
  if (target === TARGETS.sink) return sinkOn(stream);
  if (target === TARGETS.source) return sourceOn(stream);
  if (target === TARGETS.stall) return stallOn(stream);
  if (target === TARGETS.httpEcho) return binding.serveHttp(stream, echo);
  const m = /^127\.0\.0\.1:(\d{1,5})$/.exec(target);
  if (m === null) {
    stream.destroy(new Error(`unknown bench target ${target}`));
    return;
  }
  const socket = net.connect(Number(m[1]), '127.0.0.1');
  socket.setNoDelay(true);
  // Both directions with backpressure; either side failing tears down the other.
  pipeline(stream, socket, stream, () => undefined);
}

async function main(): Promise<void> {
  const targets = await startTargets();
  const url = process.argv[2];
  let tunnel = 'not requested';
  let agent: TunnelAgentSide | undefined;
  if (url !== undefined) {
    const load = await loadBinding();
    if (!load.ok) tunnel = load.reason;
    else {
      try {
        agent = await load.binding.connect(url, router(load.binding));
        tunnel = 'connected';
      } catch (err) {
        tunnel = `agent end failed to connect: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  }
  const report: PeerReport = {
    tcpSink: targets.tcpSink,
    tcpSource: targets.tcpSource,
    tcpStall: targets.tcpStall,
    wsSink: targets.wsSink,
    wsSource: targets.wsSource,
    httpEcho: targets.httpEcho,
    tunnel,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void Promise.allSettled([agent?.close(), targets.close()]).then(() => process.exit(0));
  });
}

await main();
