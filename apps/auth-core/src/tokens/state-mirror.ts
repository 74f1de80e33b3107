import { MessagePort, receiveMessageOnPort } from 'node:worker_threads';

/**
 * Keeps copies of some state on other threads exactly in step with it. The owner posts every change
 * to each follower's port and then moves a shared generation counter; a follower reads the counter
 * before it uses its copy and, when it moved, takes every message waiting on its port at once
 * (receiveMessageOnPort), without waiting for its event loop. So a change the owner made before a
 * request reached a follower — a revocation already answered to its caller — is always applied
 * before that request is judged, whatever else the follower's event loop has queued.
 */
export class StateBroadcaster<M> {
  readonly generation = new Int32Array(new SharedArrayBuffer(4));
  private readonly ports = new Set<MessagePort>();

  /** A new follower: `initial` (the whole state) reaches it first, then every broadcast. */
  add(port: MessagePort, initial: M[]): void {
    for (const m of initial) port.postMessage(m);
    this.ports.add(port);
    this.bump();
  }

  remove(port: MessagePort): void {
    this.ports.delete(port);
  }

  broadcast(message: M): void {
    for (const port of this.ports) port.postMessage(message);
    this.bump();
  }

  // After the posts: a follower that sees the new generation finds the messages already on its port.
  private bump(): void {
    Atomics.add(this.generation, 0, 1);
  }
}

export class StateFollower<M> {
  private readonly generation: Int32Array;
  private applied = -1;

  constructor(
    private readonly port: MessagePort,
    generation: SharedArrayBuffer,
    private readonly apply: (message: M) => void,
  ) {
    this.generation = new Int32Array(generation);
  }

  /** Applies whatever the owner posted up to now; a few ns when nothing changed. */
  sync(): void {
    const seen = Atomics.load(this.generation, 0);
    if (seen === this.applied) return;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) this.apply(m.message as M);
    this.applied = seen;
  }
}
