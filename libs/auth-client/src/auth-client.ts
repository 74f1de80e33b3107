import { connect, NatsConnection } from '@nats-io/transport-node';
import { checkValidateRequest, PAT_PREFIX, rolePermissions, ValidateTokenReply } from '@portcullis/contracts';
import type { Requirements } from '@portcullis/jwt';
import { AuthClientOptions, DEFAULTS, ValidationMode } from './auth-client.options';
import { LocalValidator } from './local-validator';
import { RemoteValidator } from './remote-validator';

/**
 * Framework-free token validation for cluster services. `validate` answers exactly like
 * `auth.v1.token.validate`: `{valid: true, claims}` or `{valid: false, error: {code, message}}`,
 * with code UNAVAILABLE whenever the answer cannot be trusted (fail closed).
 */
export class AuthClient {
  private constructor(
    readonly mode: ValidationMode,
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly remote: RemoteValidator,
    private readonly local: LocalValidator | null,
  ) {}

  static async create(options: AuthClientOptions): Promise<AuthClient> {
    const o = { ...DEFAULTS, ...options };
    if (!o.natsConnection && !o.natsUrl) throw new Error('AuthClient needs natsUrl or natsConnection');
    // auth-core's own bound (CLOCK_SKEW ≤ 300 s): a revocation is forgotten 600 s after the token's
    // exp, so a wider skew would accept revoked tokens again in the time between.
    if (o.clockSkew !== undefined && !(Number.isInteger(o.clockSkew) && o.clockSkew >= 0 && o.clockSkew <= 300))
      throw new Error('AuthClient clockSkew must be a whole number of seconds from 0 to 300');
    // Local mode judges permissions with this process's role map: a bad one fails here, not per request.
    if (o.mode === 'local') {
      try {
        rolePermissions();
      } catch (err) {
        throw new Error(`ROLE_PERMISSIONS ${(err as Error).message}`);
      }
    }
    const nc =
      o.natsConnection ??
      (await connect({
        ...o.natsOptions,
        servers: o.natsUrl!.split(','),
        name: 'portcullis-auth-client',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      }));
    const remote = new RemoteValidator(nc, {
      cacheSize: o.cacheSize,
      cacheTtlMs: o.cacheTtlMs,
      timeoutMs: o.timeoutMs,
    });
    let local: LocalValidator | null = null;
    if (o.mode === 'local') {
      local = new LocalValidator(nc, o);
      try {
        await local.start();
      } catch (err) {
        // A failed start leaves nothing running: a caller retrying create() must not pile up
        // connections that reconnect forever and keep the process alive.
        remote.close();
        await local.close().catch(() => undefined);
        if (!o.natsConnection) await nc.close().catch(() => undefined);
        throw err;
      }
    }
    return new AuthClient(o.mode, nc, !o.natsConnection, remote, local);
  }

  /**
   * Local mode verifies JWTs in-process; opaque credentials (PATs) always go to auth-core.
   * `mode` forces one path for a single call.
   */
  validate(token: string, req: Requirements = {}, mode: ValidationMode = this.mode): Promise<ValidateTokenReply> {
    // A caller in plain JavaScript may pass anything as token: the check below answers it.
    if (mode === 'local' && this.local && !(typeof token === 'string' && token.startsWith(PAT_PREFIX))) {
      // Refused here as auth-core refuses it (a 200-character tenant, 33 roles, a 9 kB token):
      // judged locally, such a request was answered valid or FORBIDDEN where remote said BAD_REQUEST.
      const checked = checkValidateRequest({ token, ...req });
      if ('error' in checked) return Promise.resolve({ valid: false, error: checked.error });
      return this.local.validate(token, req);
    }
    return this.remote.validate(token, req);
  }

  async close(): Promise<void> {
    this.remote.close();
    await this.local?.close();
    if (this.ownsConnection) await this.nc.drain().catch(() => undefined);
  }
}
