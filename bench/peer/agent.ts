// The agent-side child process of the benchmark: starts the targets, connects the tunnel's
// agent end when given a URL, and reports its ports as one JSON line on stdout. Running it as
// its own process puts the two ends on the two cores, as on a real server and device. It exits
// when its stdin closes, so a crashed driver never leaves it behind.
//   node bench/peer/agent.ts [TUNNEL_URL]

import net from 'node:net';
import type { Duplex } from 'node:stream';
import { echo, startTargets, sinkOn, sourceOn, stallOn } from './targets.ts';
import { loadBinding, TARGETS } from '../tunnel/harness.ts';
import type { StreamHandler, TunnelAgentSide, TunnelBinding } from '../tunnel/harness.ts';


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
  // Half-open allowed and each direction piped on its own: when the target finishes sending
  // (FIN), its bytes still in flight reach the stream before the stream ends. A single
  // pipeline(stream, socket, stream) would call that "premature close" and reset the stream,
  // cutting off the tail of the data. Errors on either side tear down the other.
  const socket = net.connect({ port: Number(m[1]), host: '127.0.0.1', allowHalfOpen: true, noDelay: true });
  stream.pipe(socket);
  socket.pipe(stream);
  socket.on('error', (err) => stream.destroy(err));
  stream.on('error', () => socket.destroy());
  stream.on('close', () => socket.destroy());
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
