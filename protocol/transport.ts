// The transport a session runs over: anything that moves whole binary messages in order (one
// WebSocket binary message = one frame). The session calls these three methods; whoever owns the
// transport feeds received frames, drain and close back through `Session.handleFrame`,
// `Session.handleTransportDrain` and `Session.handleTransportClose`.

export interface FrameTransport {
  /** Sends one frame as one binary message. Must not throw; report failure via close.
   *  Without `release`, the session never touches `frame` again, so the transport may keep it.
   *  With `release`, the transport calls it once it no longer references `frame` (written to the
   *  network, or dropped), and the session may then reuse that memory for a later frame; a
   *  transport that cannot tell simply never calls it. */
  send(frame: Uint8Array, release?: () => void): void;
  /** Bytes accepted by `send` but not yet handed to the network. The session stops sending DATA
   *  while this is at or above its high-water mark, until `handleTransportDrain` is called. */
  bufferedAmount(): number;
  /** Starts an orderly close with a WebSocket close code and a reason (≤ 123 UTF-8 bytes). */
  close(code: number, reason: string): void;
  /** Drops the connection without a closing handshake (used when the peer is presumed dead). */
  abort?(): void;
}
