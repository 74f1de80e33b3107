let queued: Array<() => void> = [];

/**
 * Runs `fn` once the current turn of the event loop is over (setImmediate), together with
 * everything else queued during that turn.
 *
 * Why: nats.js writes its outbound buffer to the socket once per microtask checkpoint, and every
 * incoming request (an HTTP request, a NATS message batch, a database reply) is handled in a
 * callback of its own, so publishing straight away costs one socket write per request. On the
 * virtual machines this runs on, a loopback write that wakes another process is dear: ≈ 165 µs of
 * the gateway's ≈ 700 µs per client_credentials request in a profile (bench/NOTES.md, session 6).
 * Publishing at the end of the turn makes all the requests handled in that turn one write; none
 * of them waits past the turn.
 */
export function atTurnEnd(fn: () => void): void {
  if (queued.push(fn) > 1) return;
  setImmediate(runQueued);
}

function runQueued(): void {
  const due = queued;
  queued = [];
  let failure: { err: unknown } | undefined;
  for (const fn of due) {
    try {
      fn();
    } catch (err) {
      // One failing callback must not cost the others their turn; the first failure still surfaces.
      failure ??= { err };
    }
  }
  if (failure) throw failure.err;
}
