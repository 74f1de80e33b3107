import type { MessagePort } from 'node:worker_threads';
import { ValidateTokenReply, ValidateTokenRequestDto } from '@portcullis/contracts';
import { RevocationStateCopy, VerificationKey } from '@portcullis/jwt';
import { NatsSettings } from '@portcullis/nats-options';
import { RevocationChange } from './revocation-cache.service';

/** What a validate worker starts with (validate.worker.ts). */
export interface ValidateWorkerData {
  index: number;
  nats: NatsSettings;
  subject: string;
  queue: string;
  verify: { issuer: string; audience: string; clockSkew: number };
  /** Bumped by the main thread after each state message it posts (see ValidateWorkers.broadcast). */
  generation: SharedArrayBuffer;
  statePort: MessagePort;
}

/** On the state port, read synchronously by the worker before it judges (receiveMessageOnPort). */
export type StateMessage =
  { keys: VerificationKey[] } | { state: RevocationStateCopy } | { change: RevocationChange } | { current: boolean };

export type ToWorker = { patReply: { id: number; reply?: ValidateTokenReply; failed?: true } } | { drain: true };

/** Requests answered since the last report: reply seconds by request outcome, and validations by outcome. */
export interface WorkerCounts {
  requests: Array<[string, number[]]>;
  validations: Array<[string, number]>;
}

export type ToMain =
  | { ready: true }
  | { pat: { id: number; req: ValidateTokenRequestDto; requestId?: string } }
  | { counts: WorkerCounts }
  | { error: string }
  | { drained: true };
