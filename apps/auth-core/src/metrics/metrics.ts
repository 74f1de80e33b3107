import { Counter, Histogram } from 'prom-client';
import { SUBJECTS } from '@portcullis/contracts';

/** Validation outcomes by reason: `valid`, or the failure that decided it. */
export const validationOutcomes = new Counter({
  name: 'portcullis_auth_core_validations_total',
  help: 'Token validations answered by this replica, by outcome',
  labelNames: ['outcome'],
});

export const tokensIssued = new Counter({
  name: 'portcullis_auth_core_tokens_issued_total',
  help: 'Access tokens issued by this replica, by kind',
  labelNames: ['typ'],
});

/**
 * Audited events by type and outcome: logins succeeded and failed (password and OIDC), client
 * authentication failures, tokens issued, refreshed and revoked, every change. The types are code
 * literals, so the label set stays small whatever callers send.
 */
export const auditEvents = new Counter({
  name: 'portcullis_auth_core_audit_events_total',
  help: 'Audited events recorded by this replica, by type and outcome (ok or failed)',
  labelNames: ['type', 'outcome'],
});

/** Every NATS request this replica answered, by subject and outcome (`ok` or the error code). */
export const natsRequests = new Counter({
  name: 'portcullis_auth_core_nats_requests_total',
  help: 'NATS requests answered by this replica, by subject and outcome',
  labelNames: ['subject', 'outcome'],
});

export const natsRequestDuration = new Histogram({
  name: 'portcullis_auth_core_nats_request_duration_seconds',
  help: 'Time from a NATS request reaching this replica to its reply being published, by subject',
  labelNames: ['subject', 'outcome'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});

/**
 * Time from a revocation or disablement (the event's `at`) to this replica applying it. The SPEC's
 * bound is one second; this shows how close every replica stays to it.
 */
export const revocationLag = new Histogram({
  name: 'portcullis_auth_core_revocation_lag_seconds',
  help: 'Delay between a revocation/disable event and this replica applying it, by kind',
  labelNames: ['kind'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30],
});

/** Observes the lag of an event carrying an ISO `at`; events without a usable time are skipped. */
export function observeRevocationLag(kind: 'token' | 'principal', at: unknown): void {
  const t = typeof at === 'string' ? Date.parse(at) : NaN;
  if (Number.isFinite(t)) revocationLag.observe({ kind }, Math.max(0, Date.now() - t) / 1000);
}

/**
 * A metric's label-bound children, made once per distinct label value: on the validate path
 * prom-client would otherwise hash a label object on every call.
 */
export function childrenBy<C>(make: (key: string) => C): (key: string) => C {
  const made = new Map<string, C>();
  return (key) => {
    let child = made.get(key);
    if (child === undefined) made.set(key, (child = make(key)));
    return child;
  };
}

/** Counts the requests of one subject served on a subscription of its own (DirectResponder, validate), as Nest's dispatch is counted. */
export function natsRequestMeter(subject: string): (outcome: string, seconds: number) => void {
  const children = childrenBy((outcome) => {
    const labels = { subject, outcome };
    return { n: natsRequests.labels(labels), seconds: natsRequestDuration.labels(labels) };
  });
  return (outcome, seconds) => {
    const m = children(outcome);
    m.n.inc();
    m.seconds.observe(seconds);
  };
}

/** One `auth.v1.token.validate` request answered (`ok` or the error code), in `seconds` from arrival to reply. */
export const countValidateRequest = natsRequestMeter(SUBJECTS.TOKEN_VALIDATE);

const validationOutcomeCounters = childrenBy((outcome) => validationOutcomes.labels({ outcome }));

/** Validations judged, by outcome (see tokens/validation-outcome.ts). */
export function countValidations(outcome: string, n = 1): void {
  validationOutcomeCounters(outcome).inc(n);
}

const auditEventCounters = childrenBy((key) => {
  const [type, outcome] = key.split(' ');
  return auditEvents.labels({ type, outcome });
});

/** One audited event (the type is a code literal without spaces). */
export function countAuditEvent(type: string, success: boolean): void {
  auditEventCounters(`${type} ${success ? 'ok' : 'failed'}`).inc();
}
