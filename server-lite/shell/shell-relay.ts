// Relays a shell between the CLI's upgraded connection and the node agent's `drover-shell` stream
// (issue 15), bytes unchanged both ways, reading the frames on the side only to count bytes and
// catch the exit status for the audit row. A malformed frame from the client ends the session.
import type { Duplex } from 'node:stream';
import { SHELL_FRAME, ShellFrameDecoder, readExit } from '../../protocol/index.ts';

export interface ShellOutcome {
  /** The command's exit status; null when the session ended without one (client gone, error). */
  exitCode: number | null;
  /** stdin bytes the client sent. */
  bytesIn: number;
  /** stdout and stderr bytes the node sent. */
  bytesOut: number;
  /** The agent's error frame, if it sent one. */
  error: string | null;
}

export function relayShell(client: Duplex, agent: Duplex, head: Buffer, onEnd: (o: ShellOutcome) => void): void {
  const outcome: ShellOutcome = { exitCode: null, bytesIn: 0, bytesOut: 0, error: null };
  const fromClient = new ShellFrameDecoder();
  const fromAgent = new ShellFrameDecoder();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    agent.destroy();
    onEnd(outcome);
  };
  const watchClient = (chunk: Buffer): boolean => {
    try {
      for (const f of fromClient.push(chunk)) if (f.type === SHELL_FRAME.stdin) outcome.bytesIn += f.payload.length;
      return true;
    } catch {
      client.destroy();
      end();
      return false;
    }
  };
  client.on('error', () => {});
  agent.on('error', () => {});
  if (head.length > 0 && watchClient(head)) agent.write(head);
  client.on('data', (chunk: Buffer) => void watchClient(chunk));
  agent.on('data', (chunk: Buffer) => {
    try {
      for (const f of fromAgent.push(chunk)) {
        if (f.type === SHELL_FRAME.stdout || f.type === SHELL_FRAME.stderr) outcome.bytesOut += f.payload.length;
        else if (f.type === SHELL_FRAME.exit) outcome.exitCode = readExit(f.payload) ?? null;
        else if (f.type === SHELL_FRAME.error) outcome.error = f.payload.toString('utf8').slice(0, 512);
      }
    } catch {
      // The agent is trusted to frame correctly; a bad frame still only ends this session.
      client.destroy();
      end();
    }
  });
  client.pipe(agent);
  agent.pipe(client);
  agent.on('end', () => client.end());
  client.on('close', end);
  agent.on('close', () => {
    if (!client.writableFinished) client.once('finish', end);
    else end();
  });
}
