import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';
import { parse } from 'yaml';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';
import { AuthCoreEnvDto } from '../../apps/auth-core/src/config/env.dto';
import { GatewayEnvDto } from '../../apps/gateway/src/config/gateway-config';
import { ExampleEnvDto } from '../../apps/example-service/src/example-env.dto';
import { APP_NODE_OPTIONS } from '../support/stack';

/**
 * The deployment files are only exercised by `docker compose` / `docker build`, which CI cannot run:
 * these checks catch the drift that would otherwise surface only on someone's laptop.
 */
const root = resolve(__dirname, '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

type Service = {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string | string[] };
  deploy?: { replicas?: number };
  ports?: (string | { target?: number; published?: number | string })[];
};

const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

function env(name: string): Record<string, string> {
  const e = services[name].environment ?? {};
  if (Array.isArray(e)) {
    return Object.fromEntries(e.map((kv) => [kv.split('=')[0], kv.slice(kv.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v == null ? '' : String(v)]));
}

function words(cmd: string | string[] | undefined): string[] {
  if (cmd === undefined) return [];
  return Array.isArray(cmd) ? cmd : cmd.split(/\s+/).filter(Boolean);
}

function distEntryOf(cmd: string | string[] | undefined): string | undefined {
  return words(cmd)
    .find((w) => /^(\.\/)?dist\/.+\.js$/.test(w))
    ?.replace(/^\.\//, '');
}

/** What `nest build <project>` emits, derived from nest-cli.json and the project's tsconfig. */
type AppBuild = { outDir: string; rootDir: string; entry: string };
function appBuilds(): Record<string, AppBuild> {
  const nest = JSON.parse(read('nest-cli.json')) as {
    projects: Record<string, { type: string; entryFile: string; compilerOptions?: { tsConfigPath?: string } }>;
  };
  const builds: Record<string, AppBuild> = {};
  for (const [name, p] of Object.entries(nest.projects)) {
    if (p.type !== 'application') continue;
    const tsconfigPath = join(root, p.compilerOptions?.tsConfigPath ?? `apps/${name}/tsconfig.app.json`);
    const { config, error } = ts.parseConfigFileTextToJson(tsconfigPath, readFileSync(tsconfigPath, 'utf8'));
    if (error) throw new Error(`cannot parse ${tsconfigPath}`);
    const opts = (config as { compilerOptions: { outDir: string; rootDir: string } }).compilerOptions;
    const outDir = resolve(dirname(tsconfigPath), opts.outDir);
    builds[name] = {
      outDir,
      rootDir: resolve(dirname(tsconfigPath), opts.rootDir),
      entry: relative(root, join(outDir, `${p.entryFile}.js`)),
    };
  }
  return builds;
}

/** The TypeScript source a dist file is compiled from, or undefined when no app build emits it. */
function sourceOf(distFile: string): string | undefined {
  const abs = join(root, distFile);
  for (const b of Object.values(appBuilds())) {
    if (abs.startsWith(b.outDir + '/')) return join(b.rootDir, relative(b.outDir, abs)).replace(/\.js$/, '.ts');
  }
  return undefined;
}

const ENTRY = {
  authCore: 'dist/apps/auth-core/apps/auth-core/src/main.js',
  gateway: 'dist/apps/gateway/apps/gateway/src/main.js',
  exampleService: 'dist/apps/example-service/apps/example-service/src/main.js',
  migrate: 'dist/apps/auth-core/apps/auth-core/src/database/migrate.js',
};

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, with the values of .env.example (and `set`) as .env. */
function interpolate(value: string, set: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    ...Object.fromEntries(
      read('.env.example')
        .split('\n')
        .map((l) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(l.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1], m[2]]),
    ),
    ...set,
  };
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}/g,
    (_m, name: string, op?: string, arg?: string) => {
      const v = values[name];
      if (v !== undefined && v !== '') return v;
      return op === '-' ? (arg ?? '') : '';
    },
  );
}

function envExampleValue(name: string): string | undefined {
  return read('.env.example')
    .split('\n')
    .map((l) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(l.trim()))
    .find((m) => m?.[1] === name)?.[2];
}

function envExampleKeys(): Set<string> {
  const keys = read('.env.example')
    .split('\n')
    .map((l) => /^([A-Z_][A-Z0-9_]*)=/.exec(l.trim())?.[1])
    .filter((k): k is string => k !== undefined);
  return new Set(keys);
}

describe('build entry points', () => {
  it('match what nest-cli.json and the app tsconfigs produce', () => {
    const builds = appBuilds();
    expect(builds['auth-core'].entry).toBe(ENTRY.authCore);
    expect(builds.gateway.entry).toBe(ENTRY.gateway);
  });

  it.each(Object.entries(ENTRY))('%s is compiled from an existing source file', (_name, entry) => {
    const source = sourceOf(entry);
    expect(source).toBeDefined();
    expect(existsSync(source as string)).toBe(true);
  });

  it.each([
    ['start:auth-core', ENTRY.authCore],
    ['start:gateway', ENTRY.gateway],
    ['migrate', ENTRY.migrate],
  ])('npm run %s starts the same file as the containers', (script, entry) => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts[script]).toContain(entry.replace(/\.js$/, ''));
  });
});

describe('docker-compose.yml', () => {
  it('has the whole stack', () => {
    expect(Object.keys(services).sort()).toEqual(
      expect.arrayContaining(['postgres', 'nats', 'migrate', 'auth-core', 'gateway', 'example-service']),
    );
    expect(words(services.nats.command)).toContain('-js');
    expect(services['auth-core'].deploy?.replicas).toBe(2);
  });

  it.each(['postgres', 'nats'])('%s has a healthcheck', (name) => {
    const test = words(services[name].healthcheck?.test);
    expect(test.length).toBeGreaterThan(1);
    expect(test[0]).not.toBe('NONE');
  });

  it('nats exposes the monitoring port its healthcheck calls', () => {
    const port = /127\.0\.0\.1:(\d+)\/healthz/.exec(words(services.nats.healthcheck?.test).join(' '))?.[1];
    expect(port).toBeDefined();
    expect(words(services.nats.command).join(' ')).toMatch(new RegExp(`(--http_port|-m)[ =]${port}\\b`));
    // The default (scratch) nats image has no shell tools to run a healthcheck with.
    expect(services.nats.image).toMatch(/alpine/);
  });

  it.each([
    ['migrate', ENTRY.migrate],
    ['auth-core', ENTRY.authCore],
    ['gateway', ENTRY.gateway],
    ['example-service', ENTRY.exampleService],
  ])('%s runs the built %s', (name, entry) => {
    expect(distEntryOf(services[name].command)).toBe(entry);
  });

  it('auth-core gets every variable it needs, migrations are left to the migrate job', () => {
    const e = env('auth-core');
    for (const key of ['DATABASE_URL', 'NATS_URL', 'MASTER_KEY', 'ISSUER', 'AUDIENCE']) {
      expect(e[key]).toBeTruthy();
    }
    expect(e.NATS_URL).toMatch(/^nats:\/\/nats:4222$/);
    expect(e.MIGRATE_ON_START).toBe('false');
  });

  it('migrate migrates the database auth-core uses', () => {
    expect(env('migrate').DATABASE_URL).toBe(env('auth-core').DATABASE_URL);
    expect(env('auth-core').DATABASE_URL).toMatch(/^postgres(ql)?:\/\/.+@postgres:5432\//);
  });

  it('gateway gets NATS_URL and publishes the port it listens on', () => {
    const e = env('gateway');
    expect(e.NATS_URL).toBe(env('auth-core').NATS_URL);
    expect(e.PORT).toMatch(/^\d+$/);
    const targets = (services.gateway.ports ?? []).map((p) =>
      typeof p === 'string' ? p.split(':').pop() : String(p.target),
    );
    expect(targets).toContain(e.PORT);
  });

  it('example-service gets what it reads, on the same NATS and subject prefix, and is checked on its port', () => {
    const e = env('example-service');
    expect(e.NATS_URL).toBe(env('auth-core').NATS_URL);
    expect(e.NATS_SUBJECT_PREFIX).toBe(env('auth-core').NATS_SUBJECT_PREFIX);
    expect(e.PORT).toMatch(/^\d+$/);
    expect(interpolate(e.AUTH_MODE)).toMatch(/^(local|remote)$/);
    expect(words(services['example-service'].healthcheck?.test).join(' ')).toContain(
      `127.0.0.1:${e.PORT}/health/ready`,
    );
  });

  it.each(['auth-core', 'gateway', 'example-service'])(
    '%s gets every NATS identity and TLS variable .env.example documents',
    (name) => {
      // Set in .env for a NATS with authentication or mutual TLS, a variable compose does not pass
      // on leaves that app connecting without it.
      const vars = [
        'NATS_USER',
        'NATS_PASSWORD',
        'NATS_TOKEN',
        'NATS_CREDS',
        'NATS_TLS_CA',
        'NATS_TLS_CERT',
        'NATS_TLS_KEY',
      ];
      expect(vars.filter((v) => env(name)[v] !== `\${${v}:-}`)).toEqual([]);
    },
  );

  it.each(['gateway', 'example-service'])('%s gets the ROLE_PERMISSIONS auth-core has', (name) => {
    // The gateway and a service in the SDK's local mode map roles to permissions themselves: with
    // the defaults instead of the operator's map they would grant what was taken from a role.
    expect(env(name).ROLE_PERMISSIONS).toBe(env('auth-core').ROLE_PERMISSIONS);
  });

  it.each([
    ['auth-core', AuthCoreEnvDto],
    ['gateway', GatewayEnvDto],
    ['example-service', ExampleEnvDto],
  ] as const)("%s environment, filled from .env.example, passes the app's config validation", (name, dto) => {
    // As after `cp .env.example .env` and setting the secrets it leaves empty; NODE_ENV=production
    // as the image sets it.
    const secrets = {
      POSTGRES_PASSWORD: 'f'.repeat(48),
      MASTER_KEY: 'm'.repeat(64),
      ADMIN_PASSWORD: 'Quiet-Otter-Lantern-42',
    };
    const e = {
      NODE_ENV: 'production',
      ...Object.fromEntries(Object.entries(env(name)).map(([k, v]) => [k, interpolate(v, secrets)])),
    };
    const filled = Object.fromEntries(Object.entries(e).filter(([, v]) => v !== ''));
    const errors = validateSync(plainToInstance(dto as new () => object, filled), { whitelist: true });
    expect(errors.map((x) => `${x.property}: ${Object.values(x.constraints ?? {}).join('; ')}`)).toEqual([]);
  });

  it.each([
    ['auth-core', AuthCoreEnvDto],
    ['gateway', GatewayEnvDto],
    ['example-service', ExampleEnvDto],
  ] as const)("every variable %s reads is in the README's configuration table", (_name, dto) => {
    // An operator learns what can be set from that table: a variable only the code knows is one
    // nobody sets on purpose (six were missing before this check).
    const names = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(dto as new () => object, '', true, false)
        .map((m) => m.propertyName),
    );
    const table = read('README.md')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .join('\n');
    expect([...names].filter((n) => !table.includes(`\`${n}\``))).toEqual([]);
  });

  it("every variable of the README's configuration table is one an app validates at start", () => {
    // README promises that a bad value stops the process naming it: a documented variable no DTO
    // declares is read raw, or by a library, where a typo passes unnoticed (UV_THREADPOOL_SIZE=abc
    // became a pool of one thread).
    const validated = new Set(
      [AuthCoreEnvDto, GatewayEnvDto, ExampleEnvDto].flatMap((dto) =>
        getMetadataStorage()
          .getTargetValidationMetadatas(dto as new () => object, '', true, false)
          .map((m) => m.propertyName),
      ),
    );
    const documented = read('README.md')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...line.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));
    expect(documented.length).toBeGreaterThan(40);
    expect(documented.filter((n) => !validated.has(n))).toEqual([]);
  });

  it('lets both apps finish a graceful shutdown before compose kills them', () => {
    for (const name of ['auth-core', 'gateway']) {
      const s = services[name] as Service & { stop_grace_period?: string };
      const grace = Number(/^(\d+)s$/.exec(s.stop_grace_period ?? '10s')?.[1]) * 1000;
      expect(Number(interpolate(env(name).SHUTDOWN_TIMEOUT_MS ?? '25000'))).toBeLessThan(grace);
    }
  });

  it('starts things in order', () => {
    const cond = (name: string, dep: string) =>
      (services[name].depends_on as Record<string, { condition?: string }> | undefined)?.[dep]?.condition;
    expect(cond('migrate', 'postgres')).toBe('service_healthy');
    expect(cond('auth-core', 'migrate')).toBe('service_completed_successfully');
    expect(cond('auth-core', 'nats')).toBe('service_healthy');
    expect(cond('gateway', 'auth-core')).toBeDefined();
    expect(cond('example-service', 'auth-core')).toBe('service_healthy');
  });

  it('holds no secrets: they come from .env and are required there', () => {
    expect(env('auth-core').MASTER_KEY).toMatch(/^\$\{MASTER_KEY:\?[^}]+\}$/);
    expect(env('auth-core').ADMIN_PASSWORD).toMatch(/^\$\{ADMIN_PASSWORD:\?[^}]+\}$/);
    expect(env('postgres').POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
  });

  it('a copy of .env.example with the secrets not filled in stops compose, naming each', () => {
    // A value there is one every reader of the repository knows: a stack started from the copy as
    // it is ran with that MASTER_KEY (signing keys, secret hashes) and that admin password.
    const required = [...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?[^}]+\}/g)].map((m) => m[1]);
    expect(new Set(required)).toEqual(new Set(['POSTGRES_PASSWORD', 'MASTER_KEY', 'ADMIN_PASSWORD']));
    expect(required.filter((name) => envExampleValue(name) !== '')).toEqual([]);
  });

  it('only references variables that .env.example documents', () => {
    const code = composeText
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join('\n');
    const referenced = [...code.matchAll(/(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
    expect(referenced.length).toBeGreaterThan(0);
    const documented = envExampleKeys();
    expect(referenced.filter((v) => !documented.has(v))).toEqual([]);
  });
});

describe('.env.example', () => {
  it('documents every setting of both apps', () => {
    const documented = envExampleKeys();
    const settings = [
      ...['DATABASE_URL', 'NATS_URL', 'ISSUER', 'AUDIENCE', 'MASTER_KEY', 'ADMIN_USERNAME', 'ADMIN_PASSWORD'],
      ...['ACCESS_TOKEN_TTL', 'REFRESH_TOKEN_TTL', 'EXTENDED_TOKEN_MAX_TTL', 'CLIENT_REGISTRATION_TOKEN'],
      ...['OIDC_PROVIDERS', 'LOG_LEVEL', 'MIGRATE_ON_START', 'HEALTH_PORT', 'NATS_SUBJECT_PREFIX', 'NODE_ENV'],
      ...['PORT', 'REQUEST_TIMEOUT_MS', 'SHUTDOWN_DELAY_MS', 'SHUTDOWN_TIMEOUT_MS', 'AUTH_MODE'],
      ...['NATS_USER', 'NATS_PASSWORD', 'NATS_TOKEN', 'NATS_CREDS', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY'],
    ];
    expect(settings.filter((s) => !documented.has(s))).toEqual([]);
  });
});

describe('.env.example, as README promises', () => {
  it("names every variable of README's configuration table, set or commented out with its default", () => {
    const named = new Set(
      read('.env.example')
        .split('\n')
        .map((l) => /^(?:#\s*)?([A-Z][A-Z0-9_]+)=/.exec(l.trim())?.[1])
        .filter(Boolean),
    );
    const documented = read('README.md')
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...line.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));
    expect(documented.filter((n) => !named.has(n))).toEqual([]);
  });
});

describe('.env.example examples', () => {
  // A commented `e.g.` is what gets copied into .env: it must be a value the app starts with.
  const example = (name: string) => {
    const lines = read('.env.example').split('\n');
    const at = lines.findIndex((l) => l.startsWith(`${name}=`));
    return /e\.g\. (.+)$/.exec(lines[at - 1] ?? '')?.[1];
  };

  it.each(['OIDC_PROVIDERS', 'ROLE_PERMISSIONS'])("the %s example passes auth-core's validation", (name) => {
    const value = example(name);
    expect(value).toBeDefined();
    const errors = validateSync(
      plainToInstance(AuthCoreEnvDto, { NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/p', [name]: value }),
      { whitelist: true },
    ).filter((e) => e.property === name);
    expect(errors.map((e) => Object.values(e.constraints ?? {}).join('; '))).toEqual([]);
  });
});

describe('Dockerfile', () => {
  // Joined continuation lines, comments dropped, split into stages at each FROM.
  const lines = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: string[][] = [];
  for (const l of lines) {
    if (/^FROM\s/i.test(l)) stages.push([]);
    stages[stages.length - 1]?.push(l);
  }
  const final = stages[stages.length - 1];
  const instr = (stage: string[], op: string) => stage.filter((l) => l.toUpperCase().startsWith(op + ' '));

  it('builds in an earlier stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.slice(0, -1).flat();
    expect(instr(build, 'RUN').join('\n')).toMatch(/npm ci(?!.*--omit=dev)/);
    expect(instr(build, 'RUN').join('\n')).toMatch(/npm run build/);
  });

  it('final stage runs as a non-root user with production dependencies only', () => {
    const users = instr(final, 'USER').map((l) => l.split(/\s+/)[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users[users.length - 1].split(':')[0]);
    expect(instr(final, 'RUN').join('\n')).toMatch(/npm ci\b.*--omit=dev/);
    expect(instr(final, 'ENV').join('\n')).toMatch(/NODE_ENV[= ]production/);
    expect(instr(final, 'COPY').join('\n')).toMatch(/--from=\S+\s+\S*dist\S*\s/);
  });

  it('builds and runs on one Node major, an LTS line package.json admits and scripts/with-node.sh can test on', () => {
    const majors = stages.map((st) => /^FROM\s+node:(\d+)[-.\s]/i.exec(st[0])?.[1]);
    expect(majors.every((m) => m !== undefined && m === majors[0])).toBe(true);
    const major = Number(majors[0]);
    // Even majors are the LTS lines; the tool chain here (package.json engines) must admit it.
    expect(major % 2).toBe(0);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(Number(/^>=(\d+)/.exec(engines)?.[1])).toBeLessThanOrEqual(major);
    expect(read('Dockerfile')).toContain(`scripts/with-node.sh ${major} npm test`);
    expect(read('README.md')).toContain(`scripts/with-node.sh ${major} npm test`);
    // The bench measures what ships: the image's flags (below) and its Node.
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.bench).toBe(`scripts/with-node.sh ${major} node bench/run.mjs`);
  });

  it('the default command is a built entry point', () => {
    const cmd = instr(final, 'CMD');
    expect(cmd).toHaveLength(1);
    const args = JSON.parse(cmd[0].slice(4)) as string[];
    expect(Object.values(ENTRY)).toContain(distEntryOf(args));
  });

  it('sets the runtime V8 flags once, and the local stack, the e2e stack and the bench read them from here', () => {
    const env = instr(final, 'ENV').find((l) => l.startsWith('ENV NODE_OPTIONS='));
    expect(env).toBe('ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=128"');
    expect(APP_NODE_OPTIONS).toBe('--max-semi-space-size=4 --max-old-space-size=128');
    expect(read('bench/lib/stack.mjs')).toMatch(/NODE_OPTIONS: APP_NODE_OPTIONS/);
    const sed = /^NODE_OPTIONS="\$\((sed .*)\)"$/m.exec(read('scripts/up.sh'))?.[1];
    expect(sed).toBeDefined();
    expect(execFileSync('bash', ['-c', sed!], { cwd: root, encoding: 'utf8' }).trim()).toBe(APP_NODE_OPTIONS);
    // Neither compose nor the manifests override it (they run the image as built).
    expect(composeText).not.toMatch(/NODE_OPTIONS/);
  });

  it('.dockerignore keeps local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.data', '.env']));
  });
});

describe('local and CI scripts', () => {
  it('.ci/run installs and tests, and stops on the first failure', () => {
    const file = join(root, '.ci/run');
    expect(() => accessSync(file, constants.X_OK)).not.toThrow();
    const code = read('.ci/run')
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join('\n');
    expect(code).toMatch(/^set -euo pipefail$/m);
    const ci = code.search(/^npm ci\b/m);
    const test = code.search(/^npm test\b/m);
    expect(ci).toBeGreaterThanOrEqual(0);
    expect(test).toBeGreaterThan(ci);
  });

  it('npm run up / down / lint are wired to files that exist', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.up).toBe('bash scripts/up.sh');
    expect(scripts.down).toBe('bash scripts/down.sh');
    expect(existsSync(join(root, 'scripts/up.sh'))).toBe(true);
    expect(existsSync(join(root, 'scripts/down.sh'))).toBe(true);
    expect(scripts.lint).toMatch(/eslint .*prettier --check/);
  });

  it('npm run up on another PORT issues tokens for the URL it prints, not for port 3000', () => {
    // The script's settings, up to where it starts doing things, as bash reads them.
    const head = read('scripts/up.sh').split('\nDATA=')[0];
    const issuer = (port?: string) =>
      execFileSync('bash', ['-c', `${head}\necho "\${ISSUER:-unset}"`], {
        cwd: join(root, 'scripts'),
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(port ? { PORT: port } : {}) },
        encoding: 'utf8',
      }).trim();
    // Discovery, the token endpoint and every token's iss name it; clients compare it to where they asked.
    expect([issuer('8080'), issuer()]).toEqual(['http://localhost:8080', 'http://localhost:3000']);
  });

  it('.gitignore keeps local state and secrets out of git', () => {
    const ignored = read('.gitignore')
      .split('\n')
      .map((l) => l.replace(/\/$/, ''));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.data', '.env']));
  });
});
