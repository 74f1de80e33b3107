/**
 * The measured stretches of the phase running now. A phase's load generators warm up, and some let
 * the work left in flight drain before they measure (the login phase for 2 s): CPU use taken over
 * the whole phase would count that idle time, and a per-operation cost taken from it would come
 * out too low. The generators (cannon, closedLoop, syncLoop) call `measuredStart`/`measuredEnd`
 * around the stretch whose operations they count; the harness sums every such stretch of a phase
 * (both sides of a phase in turns) and takes CPU use over them alone.
 */
let current = null;

/** Set by the harness for the phase running now; null between phases. */
export function watchMeasured(hooks) {
  current = hooks;
}

export function measuredStart() {
  current?.start();
}

export function measuredEnd() {
  current?.end();
}
