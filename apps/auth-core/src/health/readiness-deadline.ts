/**
 * The longest /health/ready waits for the database's ping: below the kubelet's readiness timeout
 * (3 s, deploy/k8s), so a hung database is reported down, by name, rather than as a probe timeout.
 * test/infra/k8s.spec.ts holds every shipped probe above it.
 */
export const DATABASE_PING_TIMEOUT_MS = 1500;
