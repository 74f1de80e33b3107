import { loadAuthCoreConfig } from './config';

const base = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/portcullis',
  MASTER_KEY: 'k'.repeat(40),
};

describe('auth-core configuration', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('MIGRATE_ON_START=%j is %j', (value, expected) => {
    expect(loadAuthCoreConfig({ ...base, MIGRATE_ON_START: value }).MIGRATE_ON_START).toBe(expected);
  });

  // Each read as false before: a typo silently left the schema unmigrated.
  it.each(['yes', 'on', 'ture', 'TRUE '])('refuses MIGRATE_ON_START=%j, naming the variable', (value) => {
    expect(() => loadAuthCoreConfig({ ...base, MIGRATE_ON_START: value })).toThrow(
      /MIGRATE_ON_START: MIGRATE_ON_START must be true or false/,
    );
  });
});

describe('ADMIN_PASSWORD', () => {
  // Each created the bootstrap admin before, with a password the API refuses for any other user
  // (the last one could never even be used: a login takes at most 1024 characters).
  it.each([
    ['a well-known one', 'password1234', /ADMIN_PASSWORD: ADMIN_PASSWORD is a well-known password/],
    ['one letter', 'aaaaaaaaaaaaaaaa', /ADMIN_PASSWORD: ADMIN_PASSWORD uses fewer than 5 different characters/],
    ['a keyboard run', 'qwertyuiopasdf', /ADMIN_PASSWORD: ADMIN_PASSWORD is a keyboard or alphabet sequence/],
    ['1030 characters', 'Abc1-'.repeat(206), /ADMIN_PASSWORD: ADMIN_PASSWORD must be at most 1024 characters/],
    ['9 characters', 'short-Pw1', /ADMIN_PASSWORD: ADMIN_PASSWORD must be at least 12 characters/],
  ])('refuses %s as the bootstrap admin password, naming the variable', (_label, value, message) => {
    expect(() => loadAuthCoreConfig({ ...base, ADMIN_PASSWORD: value })).toThrow(message);
  });

  it('takes one the password rule takes', () => {
    expect(loadAuthCoreConfig({ ...base, ADMIN_PASSWORD: 'correct-Horse-7-battery' }).ADMIN_PASSWORD).toBe(
      'correct-Horse-7-battery',
    );
  });

  it('never repeats the value it refuses', () => {
    expect(() => loadAuthCoreConfig({ ...base, ADMIN_PASSWORD: 'password1234' })).not.toThrow(/password1234/);
  });
});

describe('CLIENT_REGISTRATION_DEFAULT_ROLES', () => {
  it.each(['service', 'service,reader', 'team.a:reader'])('takes %j', (value) => {
    expect(
      loadAuthCoreConfig({ ...base, CLIENT_REGISTRATION_DEFAULT_ROLES: value }).CLIENT_REGISTRATION_DEFAULT_ROLES,
    ).toBe(value);
  });

  // Each was stored as given on every self-registered client: a role the API refuses to grant
  // (ROLE_PATTERN: 1-64 characters starting with a letter or digit), an empty one, or one twice.
  it.each(['-x', 'service,,reader', 'service,service', `r${'x'.repeat(64)}`, 'admin', 'service,system'])(
    'refuses %j, naming the variable',
    (value) => {
      expect(() => loadAuthCoreConfig({ ...base, CLIENT_REGISTRATION_DEFAULT_ROLES: value })).toThrow(
        /CLIENT_REGISTRATION_DEFAULT_ROLES: CLIENT_REGISTRATION_DEFAULT_ROLES must be/,
      );
    },
  );
});

describe('DEFAULT_CLIENT_ID', () => {
  it('is portcullis unless set', () => {
    expect(loadAuthCoreConfig(base).DEFAULT_CLIENT_ID).toBe('portcullis');
    expect(loadAuthCoreConfig({ ...base, DEFAULT_CLIENT_ID: 'login-app' }).DEFAULT_CLIENT_ID).toBe('login-app');
  });

  // Each became the `cid` of every login's token before: an id no client can have (a space or an
  // oversize one the listings' client_ids filter refuses, so those tokens could not be selected).
  it.each(['a b', '-x', `c${'x'.repeat(128)}`])('refuses %j, naming the variable', (value) => {
    expect(() => loadAuthCoreConfig({ ...base, DEFAULT_CLIENT_ID: value })).toThrow(/DEFAULT_CLIENT_ID: /);
  });
});

describe('API_KEY_MAX_TTL_DAYS', () => {
  it('is 0 (no bound) unless set, and takes whole days up to ten years', () => {
    expect(loadAuthCoreConfig(base).API_KEY_MAX_TTL_DAYS).toBe(0);
    expect(loadAuthCoreConfig({ ...base, API_KEY_MAX_TTL_DAYS: '90' }).API_KEY_MAX_TTL_DAYS).toBe(90);
  });

  it.each(['-1', '3651', '1.5', 'year'])('refuses %j, naming the variable', (value) => {
    expect(() => loadAuthCoreConfig({ ...base, API_KEY_MAX_TTL_DAYS: value })).toThrow(/API_KEY_MAX_TTL_DAYS/);
  });
});

describe('SIGNING_ALGORITHM', () => {
  it('is ES256 unless told, and takes EdDSA', () => {
    expect(loadAuthCoreConfig(base).SIGNING_ALGORITHM).toBe('ES256');
    expect(loadAuthCoreConfig({ ...base, SIGNING_ALGORITHM: 'EdDSA' }).SIGNING_ALGORITHM).toBe('EdDSA');
  });

  it.each(['HS256', 'RS256', 'none', 'es256'])('refuses %j, naming the variable', (value) => {
    expect(() => loadAuthCoreConfig({ ...base, SIGNING_ALGORITHM: value })).toThrow(
      /SIGNING_ALGORITHM: SIGNING_ALGORITHM must be one of ES256, EdDSA/,
    );
  });
});

describe('MASTER_KEY_PREVIOUS', () => {
  it('takes a comma list of keys of 32 characters or more', () => {
    const previous = `${'a'.repeat(32)},${'b'.repeat(48)}`;
    expect(loadAuthCoreConfig({ ...base, MASTER_KEY_PREVIOUS: previous }).MASTER_KEY_PREVIOUS).toBe(previous);
  });

  it.each(['short', `${'a'.repeat(32)},short`, `${'a'.repeat(32)},`, `,${'a'.repeat(32)}`])(
    'refuses %j, naming the variable and not echoing it',
    (value) => {
      expect(() => loadAuthCoreConfig({ ...base, MASTER_KEY_PREVIOUS: value })).toThrow(
        /MASTER_KEY_PREVIOUS: MASTER_KEY_PREVIOUS must be a comma list of keys of at least 32 characters each/,
      );
    },
  );
});

describe('UV_THREADPOOL_SIZE', () => {
  // libuv reads it itself and turned each of these into a pool of one thread, silently: every
  // login then waited for the one password hash before it.
  it.each(['abc', '0', '-2', '2.5', '1025'])('refuses %j, naming the variable', (value) => {
    expect(() => loadAuthCoreConfig({ ...base, UV_THREADPOOL_SIZE: value })).toThrow(/UV_THREADPOOL_SIZE: /);
  });

  it.each([undefined, '1', '4', '128'])('takes %j', (value) => {
    expect(() => loadAuthCoreConfig({ ...base, UV_THREADPOOL_SIZE: value })).not.toThrow();
  });
});

describe('SHUTDOWN_DELAY_MS', () => {
  it('refuses a delay as long as the whole shutdown may take, naming both', () => {
    expect(() => loadAuthCoreConfig({ ...base, SHUTDOWN_DELAY_MS: '30000' })).toThrow(
      /SHUTDOWN_DELAY_MS: SHUTDOWN_DELAY_MS must be shorter than SHUTDOWN_TIMEOUT_MS \(25000\)/,
    );
  });
});

describe('KEY_RETIREMENT_GRACE_SECONDS', () => {
  // Taken before: a replica whose clock runs CLOCK_SKEW ahead narrowed a retired key as soon as
  // the grace was over on its clock, maybe before the other replicas had stopped signing with it,
  // and the key left the JWKS while tokens it signed were still valid.
  it.each([
    ['60', '60'],
    ['30', '60'],
    ['1', '300'],
  ])('refuses %s with CLOCK_SKEW=%s, naming the variable', (grace, skew) => {
    expect(() => loadAuthCoreConfig({ ...base, KEY_RETIREMENT_GRACE_SECONDS: grace, CLOCK_SKEW: skew })).toThrow(
      /KEY_RETIREMENT_GRACE_SECONDS: KEY_RETIREMENT_GRACE_SECONDS must be greater than CLOCK_SKEW/,
    );
  });

  it('takes the defaults (60 s over a CLOCK_SKEW of 30 s) and one a second over CLOCK_SKEW', () => {
    expect(loadAuthCoreConfig(base).KEY_RETIREMENT_GRACE_SECONDS).toBe(60);
    expect(
      loadAuthCoreConfig({ ...base, KEY_RETIREMENT_GRACE_SECONDS: '301', CLOCK_SKEW: '300' })
        .KEY_RETIREMENT_GRACE_SECONDS,
    ).toBe(301);
  });
});
