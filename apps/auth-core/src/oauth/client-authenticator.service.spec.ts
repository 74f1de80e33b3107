import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { AuditInput, AuditService } from '../audit/audit.service';
import { ClientEntity } from '../clients/client.entity';
import { ClientsRepository } from '../clients/clients.repository';
import { MasterKey } from '../keys/master-key';
import { ClientAuthenticatorService } from './client-authenticator.service';

/** A repository whose reads the test settles by hand, recording what each read would have seen. */
class ManualRepository {
  readonly reads: Array<{ id: string; settle: (row: ClientEntity | null) => void; fail: (e: Error) => void }> = [];
  find(id: string): Promise<ClientEntity | null> {
    return new Promise((resolve, reject) => this.reads.push({ id, settle: resolve, fail: reject }));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ClientAuthenticatorService: shared reads never serve a row read before the request', () => {
  const masterKey = new MasterKey(randomBytes(48).toString('base64'));
  const secret = 'the-secret';
  const client = (over: Partial<ClientEntity> = {}) =>
    ({ clientId: 'svc', secretHash: masterKey.hashSecret(secret), enabled: true, roles: [], ...over }) as ClientEntity;
  let repo: ManualRepository;
  let auth: ClientAuthenticatorService;
  let audited: AuditInput[];
  const audit = { record: async (input: AuditInput) => void audited.push(input) };

  beforeEach(() => {
    repo = new ManualRepository();
    audited = [];
    auth = new ClientAuthenticatorService(
      repo as unknown as ClientsRepository,
      masterKey,
      audit as unknown as AuditService,
    );
  });

  it('callers arriving during a read share the next read, not the one in flight', async () => {
    const first = auth.authenticate('svc', secret);
    expect(repo.reads).toHaveLength(1);
    const later = [
      auth.authenticate('svc', secret),
      auth.authenticate('svc', secret),
      auth.authenticate('svc', secret),
    ];
    expect(repo.reads).toHaveLength(1); // nobody else starts a read while one is in flight
    // The client is disabled while the first read is in flight: that read still saw it enabled,
    // the callers who arrived meanwhile must not be answered from it.
    repo.reads[0].settle(client());
    await expect(first).resolves.toMatchObject({ clientId: 'svc' });
    await tick();
    expect(repo.reads).toHaveLength(2); // one read for the three that waited
    repo.reads[1].settle(client({ enabled: false }));
    for (const p of later) await expect(p).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('a rotated secret is seen by every request that arrived after the rotation', async () => {
    const first = auth.authenticate('svc', secret);
    const next = auth.authenticate('svc', secret);
    repo.reads[0].settle(client());
    await expect(first).resolves.toBeDefined();
    await tick();
    repo.reads[1].settle(client({ secretHash: masterKey.hashSecret('rotated') }));
    await expect(next).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('a failed read fails the callers that shared it, and the next caller reads again', async () => {
    const first = auth.authenticate('svc', secret);
    const waiting = auth.authenticate('svc', secret);
    repo.reads[0].fail(new Error('connect ECONNREFUSED'));
    await expect(first).rejects.toThrow('ECONNREFUSED');
    await tick();
    repo.reads[1].fail(new Error('connect ECONNREFUSED'));
    await expect(waiting).rejects.toThrow('ECONNREFUSED');
    const again = auth.authenticate('svc', secret);
    expect(repo.reads).toHaveLength(3);
    repo.reads[2].settle(client());
    await expect(again).resolves.toBeDefined();
  });

  it('reads of different clients do not wait for each other; unknown clients fail like bad secrets', async () => {
    const a = auth.authenticate('svc', 'wrong');
    const b = auth.authenticate('other', secret);
    expect(repo.reads.map((r) => r.id)).toEqual(['svc', 'other']);
    repo.reads[0].settle(client());
    repo.reads[1].settle(null);
    await expect(a).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(b).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  describe('authenticateRemembered (the caller checks the row again when it writes)', () => {
    const authenticated = async () => {
      const p = auth.authenticate('svc', secret);
      repo.reads.at(-1)!.settle(client());
      await p;
    };
    // Which path answered, told by its cost: the remembered row is one hash check and no read; a
    // fresh read adds a read and the check `authenticate` makes.
    let verifications: jest.SpyInstance;
    beforeEach(() => (verifications = jest.spyOn(masterKey, 'secretMatches')));
    afterEach(() => verifications.mockRestore());
    const cost = () => ({ reads: repo.reads.length, verifications: verifications.mock.calls.length });

    it('answers from the row of the last successful read: one hash check, no read', async () => {
      await authenticated();
      expect(cost()).toEqual({ reads: 1, verifications: 1 });
      await expect(auth.authenticateRemembered('svc', secret)).resolves.toMatchObject({ clientId: 'svc' });
      expect(cost()).toEqual({ reads: 1, verifications: 2 });
    });

    it('reads when nothing is remembered, and remembers what authenticated', async () => {
      const p = auth.authenticateRemembered('svc', secret);
      expect(repo.reads).toHaveLength(1);
      repo.reads[0].settle(client());
      await expect(p).resolves.toMatchObject({ clientId: 'svc' });
      expect(cost()).toEqual({ reads: 1, verifications: 1 });
      await expect(auth.authenticateRemembered('svc', secret)).resolves.toMatchObject({ clientId: 'svc' });
      expect(cost()).toEqual({ reads: 1, verifications: 2 });
    });

    it('a secret the remembered row refuses is decided by a fresh read (it may have been rotated)', async () => {
      await authenticated();
      const p = auth.authenticateRemembered('svc', 'rotated');
      expect(repo.reads).toHaveLength(2);
      repo.reads[1].settle(client({ secretHash: masterKey.hashSecret('rotated') }));
      await expect(p).resolves.toMatchObject({ clientId: 'svc' });
      // The remembered row's check, then the fresh row's.
      expect(cost()).toEqual({ reads: 2, verifications: 3 });
      // The new row is now the remembered one: the old secret no longer passes without a read.
      const old = auth.authenticateRemembered('svc', secret);
      expect(repo.reads).toHaveLength(3);
      repo.reads[2].settle(client({ secretHash: masterKey.hashSecret('rotated') }));
      await expect(old).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    });

    it('forget, and any failed authentication, drop the remembered row', async () => {
      await authenticated();
      auth.forget('svc');
      const afterForget = auth.authenticateRemembered('svc', secret);
      expect(repo.reads).toHaveLength(2);
      repo.reads[1].settle(client());
      await afterForget;

      const disabled = auth.authenticate('svc', secret);
      repo.reads[2].settle(client({ enabled: false }));
      await expect(disabled).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      const next = auth.authenticateRemembered('svc', secret);
      expect(repo.reads).toHaveLength(4);
      repo.reads[3].settle(null);
      await expect(next).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    });
  });

  it('audits every failure with its reason, and no success', async () => {
    const attempts = [
      auth.authenticate('ghost', secret),
      auth.authenticate('svc', 'wrong'),
      auth.authenticate('off', secret),
      auth.authenticate('ok', secret),
    ];
    repo.reads[0].settle(null);
    repo.reads[1].settle(client());
    repo.reads[2].settle(client({ clientId: 'off', enabled: false }));
    repo.reads[3].settle(client({ clientId: 'ok' }));
    await Promise.allSettled(attempts);
    expect(audited).toEqual([
      {
        type: 'client.auth_failed',
        subject: null,
        success: false,
        data: { clientId: 'ghost', reason: 'unknown_client' },
      },
      { type: 'client.auth_failed', subject: 'svc', success: false, data: { clientId: 'svc', reason: 'bad_secret' } },
      { type: 'client.auth_failed', subject: 'off', success: false, data: { clientId: 'off', reason: 'disabled' } },
    ]);
  });
});
