// The transport a session runs over: anything that moves whole binary messages in order (one
// WebSocket binary message = one frame). The session calls these three methods; whoever owns the
// transport feeds received frames, drain and close back through `Session.handleFrame`,
// `Session.handleTransportDrain` and `Session.handleTransportClose`.

export interface FrameTransport {
  /** Sends one frame as one binary message. Must not throw; report failure via close. The
   *  session does not reuse `frame` after the call, so the transport may keep it. */
  send(frame: Uint8Array): void;
  /** Bytes accepted by `send` but not yet handed to the network. The session stops sending DATA
   *  while this is at or above its high-water mark, until `handleTransportDrain` is called. */
  bufferedAmount(): number;
  /** Starts an orderly close with a WebSocket close code and a reason (≤ 123 UTF-8 bytes). */
  close(code: number, reason: string): void;
  /** Drops the connection without a closing handshake (used when the peer is presumed dead). */
  abort?(): void;
}
