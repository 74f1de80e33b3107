import { isDatabaseUnavailable, wireErrorOf } from './rpc-error.filter';

const pgError = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    // A stopped PostgreSQL removes its socket file: over DATABASE_URL's socket form, "down" reads so.
    ['a socket file that is gone', pgError('connect ENOENT /var/run/postgresql/.s.PGSQL.5432', 'ENOENT')],
    ['a socket nobody listens on', pgError('connect ECONNREFUSED /tmp/.s.PGSQL.5432', 'ECONNREFUSED')],
    ['a reset connection', pgError('read ECONNRESET', 'ECONNRESET')],
    ['a connection lost mid-query', pgError('Connection terminated unexpectedly')],
    ['an administrator shutdown (57P01)', pgError('terminating connection due to administrator command', '57P01')],
    [
      'a crash of another backend (57P02)',
      pgError('terminating connection because of crash of another server process', '57P02'),
    ],
    ['crash recovery after a restart (57P03)', pgError('the database system is in recovery mode', '57P03')],
    ['start-up (57P03, message only)', pgError('the database system is starting up')],
    ['a connection exception (08006)', pgError('connection failure', '08006')],
    ['too many connections (53300)', pgError('sorry, too many clients already', '53300')],
    ['a TypeORM QueryFailedError wrapping one', Object.assign(new Error('x'), { driverError: { code: '57P03' } })],
    ['a pool connect timeout', pgError('timeout exceeded when trying to connect')],
  ])('%s is UNAVAILABLE', (_what, err) => expect(isDatabaseUnavailable(err)).toBe(true));

  it.each([
    ['a unique violation', pgError('duplicate key value violates unique constraint "x"', '23505')],
    ['a syntax error', pgError('syntax error at or near "x"', '42601')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a file the app itself cannot open', pgError("ENOENT: no such file or directory, open '/etc/x.json'", 'ENOENT')],
  ])('%s is not', (_what, err) => expect(isDatabaseUnavailable(err)).toBe(false));
});

describe('wireErrorOf', () => {
  const logger = { error: jest.fn() };
  it.each([
    ['a deadlock (40P01)', pgError('deadlock detected', '40P01')],
    ['a serialization failure (40001)', Object.assign(new Error('x'), { driverError: { code: '40001' } })],
  ])('%s is UNAVAILABLE (503, retryable), not INTERNAL', (_what, err) =>
    expect(wireErrorOf(err, logger).code).toBe('UNAVAILABLE'),
  );
  it('a plain bug stays INTERNAL', () => expect(wireErrorOf(new TypeError('x'), logger).code).toBe('INTERNAL'));
});
