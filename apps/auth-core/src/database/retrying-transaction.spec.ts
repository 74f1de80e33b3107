import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { retryingTransaction } from './retrying-transaction';

const deadlock = () => Object.assign(new Error('deadlock detected'), { code: '40P01' });

/** A DataSource whose transactions fail with `failures` in turn, then run the work. */
const failing = (...failures: Error[]) => {
  const ds = {
    calls: 0,
    transaction: jest.fn(async (work: (m: unknown) => Promise<unknown>) => {
      const failure = failures[ds.calls++];
      if (failure) throw failure;
      return work({});
    }),
  };
  return ds;
};

describe('retryingTransaction', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));

  it('runs a transaction PostgreSQL ended to break a deadlock again', async () => {
    const ds = failing(deadlock(), deadlock());
    await expect(retryingTransaction(ds as unknown as DataSource, async () => 'done')).resolves.toBe('done');
    expect(ds.calls).toBe(3);
  });

  it('gives up after three attempts, with the deadlock (answered 503 by the RPC filter)', async () => {
    const ds = failing(deadlock(), deadlock(), deadlock());
    await expect(retryingTransaction(ds as unknown as DataSource, async () => 'done')).rejects.toMatchObject({
      code: '40P01',
    });
    expect(ds.calls).toBe(3);
  });

  it('never runs again for any other failure', async () => {
    const ds = failing(Object.assign(new Error('duplicate key'), { code: '23505' }));
    await expect(retryingTransaction(ds as unknown as DataSource, async () => 'done')).rejects.toMatchObject({
      code: '23505',
    });
    expect(ds.calls).toBe(1);
  });
});
