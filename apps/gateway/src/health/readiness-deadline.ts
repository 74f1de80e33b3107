/**
 * The longest /health/ready waits for auth-core's status, whatever REQUEST_TIMEOUT_MS is: the
 * kubelet gives readiness 3 s (deploy/k8s) and counts a probe it times out as failed without the
 * report that says why, so a stuck auth-core must be reported as down before that.
 * test/infra/k8s.spec.ts holds every shipped probe above it.
 */
export const READINESS_DEADLINE_MS = 2000;
