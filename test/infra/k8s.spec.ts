import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parse, parseAllDocuments } from 'yaml';
import { AuthCoreEnvDto } from '../../apps/auth-core/src/config/env.dto';
import { GatewayEnvDto } from '../../apps/gateway/src/config/gateway-config';
import { READINESS_DEADLINE_MS as GATEWAY_READINESS_DEADLINE_MS } from '../../apps/gateway/src/health/readiness-deadline';
import { DATABASE_PING_TIMEOUT_MS } from '../../apps/auth-core/src/health/readiness-deadline';
import { ExampleEnvDto } from '../../apps/example-service/src/example-env.dto';
import { unknownFields } from '../support/k8s-schema';
import * as k from '../support/k8s';

/**
 * deploy/k8s is only ever applied to real clusters, which CI does not have: render the overlays
 * with the real kustomize (kubectl), validate every object against the Kubernetes schemas, and
 * check what the manifests promise against the code (routes, entry points, config, ports).
 */
const root = resolve(__dirname, '../..');
const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const hasKubectl = spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!hasKubectl) {
  // CI installs kubectl (.ci/run); there a missing kubectl is a failure, not a skip.
  if (process.env.CI) throw new Error(`${KUBECTL} not found: .ci/run should have installed kubernetes-client`);
  console.warn(`SKIPPED test/infra/k8s.spec.ts: no \`${KUBECTL}\` on PATH (apt-get install kubernetes-client)`);
}
const describeK8s = hasKubectl ? describe : describe.skip;

const render = (overlay: string): k.K8sObject[] =>
  parseAllDocuments(
    execFileSync(KUBECTL, ['kustomize', join(root, 'deploy/k8s/overlays', overlay)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
    .map((d) => d.toJS() as k.K8sObject)
    .filter(Boolean)
    .map((o) => {
      // Newer kustomize folds long base64 values over lines; the API server's decoder skips line
      // breaks, the schema's strict "byte" format does not.
      if (o.kind === 'Secret' && o.data) {
        o.data = Object.fromEntries(Object.entries(o.data).map(([key, v]) => [key, String(v).replace(/\s+/g, '')]));
      }
      return o;
    });

const APPS = {
  gateway: { entry: 'dist/apps/gateway/apps/gateway/src/main.js', port: 3000 },
  'auth-core': { entry: 'dist/apps/auth-core/apps/auth-core/src/main.js', port: 3001 },
  'example-service': { entry: 'dist/apps/example-service/apps/example-service/src/main.js', port: 3002 },
} as const;
const MIGRATE_ENTRY = 'dist/apps/auth-core/apps/auth-core/src/database/migrate.js';

/** Every GET route an app serves, from its controllers' decorators. */
function getRoutes(app: string): Set<string> {
  const routes = new Set<string>();
  const walkDir = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walkDir(p) : p.endsWith('.ts') && !p.endsWith('.spec.ts') ? [p] : [];
    });
  for (const file of walkDir(join(root, 'apps', app, 'src'))) {
    const src = readFileSync(file, 'utf8');
    const controller = /@Controller\(\s*(?:'([^']*)')?\s*\)/.exec(src);
    if (!controller) continue;
    for (const m of src.matchAll(/@Get\(\s*(?:'([^']*)')?\s*\)/g)) {
      routes.add('/' + [controller[1], m[1]].filter(Boolean).join('/').replace(/^\/+/, ''));
    }
  }
  return routes;
}

describeK8s('deploy/k8s', () => {
  const prod = hasKubectl ? render('prod') : [];
  const dev = hasKubectl ? render('dev') : [];
  const workloads = k.workloads(prod);
  const deployment = (name: string) => k.find(prod, 'Deployment', name);
  const container = (name: string) => k.podSpec(deployment(name)).containers[0];
  const configMap = () => k.find(prod, 'ConfigMap', 'portcullis-config').data as Record<string, string>;

  it.each([
    ['prod', prod],
    ['dev', dev],
  ])('%s renders objects that validate against the Kubernetes schemas, with no unknown field', (_name, objects) => {
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['Deployment', 'Job', 'Service', 'ConfigMap', 'ServiceAccount', 'PodDisruptionBudget']) {
      expect(kinds).toContain(kind);
    }
    expect(kinds).toContain('HorizontalPodAutoscaler');
    expect(kinds).toContain('NetworkPolicy');
    const validation = spawnSync(process.execPath, [join(root, 'test/support/k8s-validate.mjs')], {
      input: JSON.stringify(objects),
      encoding: 'utf8',
      cwd: root,
    });
    expect(validation.stderr).toBe('');
    expect(JSON.parse(validation.stdout)).toEqual([]);
    const unknown = [...unknownFields(objects).values()].flat();
    expect(unknown).toEqual([]);
  });

  it('the unknown-field check catches a misplaced field', () => {
    const broken = structuredClone(deployment('gateway'));
    (k.podSpec(broken).containers[0] as unknown as Record<string, unknown>).readinessprobe = {};
    expect([...unknownFields([broken]).values()].flat()).toEqual([
      'Deployment.spec.template.spec.containers[0].readinessprobe',
    ]);
  });

  it('deploys every app and the migration Job, each starting its own built entry point', () => {
    expect(Object.keys(workloads).sort()).toEqual(['auth-core', 'example-service', 'gateway', 'portcullis-migrate']);
    for (const [name, app] of Object.entries(APPS)) {
      expect(k.distEntry(container(name).command, container(name).args)).toBe(app.entry);
    }
    const job = k.find(prod, 'Job', 'portcullis-migrate');
    const migrate = k.podSpec(job).containers[0];
    expect(k.distEntry(migrate.command, migrate.args)).toBe(MIGRATE_ENTRY);
    // The entry points are what nest-cli.json builds (see deployment-files.spec.ts for the mapping).
    const nest = JSON.parse(readFileSync(join(root, 'nest-cli.json'), 'utf8')) as {
      projects: Record<string, { entryFile: string }>;
    };
    for (const [name, app] of Object.entries(APPS)) {
      expect(app.entry).toBe(`dist/apps/${name}/${nest.projects[name]?.entryFile}.js`);
    }
    expect(readFileSync(join(root, 'apps/auth-core/src/database/migrate.ts'), 'utf8')).toContain('require.main');
  });

  it.each(Object.keys(APPS))('%s probes hit GET routes the app serves, on the port it listens on', (name) => {
    const c = container(name);
    const routes = getRoutes(name);
    const probes = [c.startupProbe, c.livenessProbe, c.readinessProbe];
    expect(probes.every(Boolean)).toBe(true);
    for (const probe of probes) {
      const get = probe?.httpGet as { path: string; port: number | string };
      expect(routes).toContain(get.path);
      expect(k.containerPort(c, get.port)).toBe(APPS[name as keyof typeof APPS].port);
    }
    expect(c.readinessProbe?.httpGet?.path).toBe('/health/ready');
    expect(c.livenessProbe?.httpGet?.path).toBe('/health/live');
    // The app listens where the probes look: PORT (gateway, example-service) or HEALTH_PORT (auth-core).
    const env = k.effectiveEnv(c, prod);
    const listenVar = name === 'auth-core' ? 'HEALTH_PORT' : 'PORT';
    expect(Number(env[listenVar])).toBe(APPS[name as keyof typeof APPS].port);
  });

  it.each(Object.keys(APPS))('%s judges permissions with the ROLE_PERMISSIONS auth-core has', (name) => {
    // Every process that maps roles to permissions — the gateway, and a service in the SDK's local
    // mode — must be given the same map, or it grants what the operator took away from a role.
    const c = container(name);
    const fromConfigMap =
      (c.envFrom ?? []).some((f) => f.configMapRef?.name === 'portcullis-config') ||
      (c.env ?? []).some(
        (e) =>
          e.name === 'ROLE_PERMISSIONS' &&
          e.valueFrom?.configMapKeyRef?.name === 'portcullis-config' &&
          e.valueFrom.configMapKeyRef.key === 'ROLE_PERMISSIONS',
      );
    expect(configMap()).toHaveProperty('ROLE_PERMISSIONS');
    expect([name, fromConfigMap]).toEqual([name, true]);
  });

  it('Services target named ports that exist on their pods', () => {
    for (const svc of prod.filter((o) => o.kind === 'Service')) {
      const target = Object.entries(workloads).find(([, w]) =>
        k.matches(svc.spec?.selector as Record<string, string>, k.podLabels(w)),
      );
      expect(target).toBeDefined();
      const c = k.podSpec(target?.[1] as k.K8sObject).containers[0];
      for (const p of svc.spec?.ports as Array<{ targetPort: string | number }>) {
        expect(k.containerPort(c, p.targetPort)).toBeDefined();
      }
    }
  });

  it('every pod runs non-root, read-only, unprivileged, with no capability and no API token', () => {
    for (const [name, w] of Object.entries(workloads)) {
      const spec = k.podSpec(w);
      expect([name, spec.securityContext?.runAsNonRoot]).toEqual([name, true]);
      expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.serviceAccountName).toBe('portcullis');
      for (const c of spec.containers) {
        expect([name, c.securityContext]).toMatchObject([
          name,
          {
            runAsNonRoot: true,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          },
        ]);
        expect(c.securityContext?.privileged).not.toBe(true);
        expect(c.securityContext?.capabilities?.add ?? []).toEqual([]);
        // A read-only root needs somewhere writable for Node's and libraries' temp files.
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
        expect(c.resources?.requests?.cpu).toBeDefined();
        expect(c.resources?.requests?.memory).toBeDefined();
        expect(c.resources?.limits?.memory).toBeDefined();
      }
    }
  });

  it.each([
    ['gateway', Math.min(GATEWAY_READINESS_DEADLINE_MS, Number(configMap().REQUEST_TIMEOUT_MS))],
    ['auth-core', DATABASE_PING_TIMEOUT_MS],
  ])('%s readiness answers within its probe timeout however slow what it checks is', (name, longestMs) => {
    // A probe the kubelet times out fails without the report that says which check is down.
    for (const objects of [prod, dev]) {
      const probe = k.podSpec(k.find(objects, 'Deployment', name)).containers[0].readinessProbe;
      expect(longestMs + 500).toBeLessThanOrEqual((probe?.timeoutSeconds ?? 1) * 1000);
    }
  });

  it('auth-core and gateway are sized from the benchmark: 100m/128Mi requested, ≤ 1 CPU and 256Mi', () => {
    for (const name of ['auth-core', 'gateway']) {
      const r = container(name).resources;
      expect(r).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } });
    }
  });

  it("the image's V8 heap cap leaves room under the pod's memory limit for code and native memory", () => {
    // Node does not read the cgroup limit: without this cap V8 grows past it and the pod is OOM-killed.
    const flags = /^ENV NODE_OPTIONS="(.*)"$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1] ?? '';
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(flags)?.[1]);
    const semi = Number(/--max-semi-space-size=(\d+)/.exec(flags)?.[1]);
    for (const name of ['auth-core', 'gateway']) {
      const limitMi = Number(/^(\d+)Mi$/.exec(String(container(name).resources?.limits?.memory))?.[1]);
      // ~80 MB of code and native memory measured by the bench (RSS minus V8 heap), plus 3 semi-spaces.
      expect(oldSpace + 3 * semi + 80).toBeLessThanOrEqual(limitMi);
    }
  });

  it.each(['prod', 'dev'])('%s leaves the replica count of auth-core and gateway to their HPAs', (overlay) => {
    // With `replicas` in the manifest every `kubectl apply` of a release set it back (Kubernetes'
    // HPA docs): an HPA grown to 8 replicas under load dropped to 3 at the moment of the rollout.
    for (const name of ['auth-core', 'gateway']) {
      expect([name, k.find(overlay === 'prod' ? prod : dev, 'Deployment', name).spec?.replicas]).toEqual([
        name,
        undefined,
      ]);
    }
  });

  it('base runs two replicas of each app at least (HPA minimum)', () => {
    const base = parseAllDocuments(
      ['auth-core.yaml', 'gateway.yaml']
        .map((f) => readFileSync(join(root, 'deploy/k8s/base', f), 'utf8'))
        .join('\n---\n'),
    ).map((d) => d.toJS() as k.K8sObject);
    for (const name of ['auth-core', 'gateway']) {
      expect(k.find(base, 'HorizontalPodAutoscaler', name).spec?.minReplicas).toBeGreaterThanOrEqual(2);
    }
  });

  it('prod runs at least 3 auth-core replicas, kept by the HPA and protected by the PDB', () => {
    expect(k.find(prod, 'HorizontalPodAutoscaler', 'auth-core').spec?.minReplicas).toBeGreaterThanOrEqual(3);
    expect(k.find(prod, 'HorizontalPodAutoscaler', 'gateway').spec?.minReplicas).toBeGreaterThanOrEqual(2);
    for (const name of ['auth-core', 'gateway']) {
      const hpa = k.find(prod, 'HorizontalPodAutoscaler', name).spec as {
        scaleTargetRef: { kind: string; name: string };
      };
      expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name });
      const pdb = k.find(prod, 'PodDisruptionBudget', name).spec as { minAvailable: number; selector: k.Selector };
      expect(k.selects(pdb.selector, k.podLabels(deployment(name)))).toBe(true);
      expect(pdb.minAvailable).toBeGreaterThanOrEqual(1);
      expect(pdb.minAvailable).toBeLessThan(k.find(prod, 'HorizontalPodAutoscaler', name).spec?.minReplicas as number);
    }
    const strategy = deployment('auth-core').spec?.strategy as { rollingUpdate: { maxUnavailable: number } };
    expect(strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('prod talks TLS to a NATS cluster, as a distinct NATS user per app', () => {
    const urls = configMap().NATS_URL.split(',');
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const u of urls) expect(u).toMatch(/^tls:\/\/[^,]+:4222$/);
    // deploy/README.md's NATS users admit no anonymous client: a pod without its own identity never connects.
    const users = new Set<string>();
    for (const name of ['auth-core', 'gateway', 'example-service']) {
      const c = container(name);
      const env = k.effectiveEnv(c, prod);
      expect(k.mountedFile(k.podSpec(deployment(name)), c, env.NATS_TLS_CA)).toBe(true);
      users.add(env.NATS_USER);
      const password = c.env?.find((e) => e.name === 'NATS_PASSWORD');
      expect(password?.valueFrom?.secretKeyRef).toBeDefined();
    }
    expect(users).toEqual(new Set(['auth-core', 'gateway', 'example-service']));
    const readme = readFileSync(join(root, 'deploy/README.md'), 'utf8');
    for (const user of users) expect(readme).toContain(`- user: ${user}`);
  });

  it('prod gateway takes the caller from X-Forwarded-For of the ingress in front of it (TRUST_PROXY)', () => {
    // Otherwise every caller is the ingress controller's address: the per-address failed-login
    // throttle then blocks everyone at once, and audits name the ingress, not the caller.
    const trusted = k.effectiveEnv(container('gateway'), prod).TRUST_PROXY ?? '';
    expect(trusted.split(',').map((t) => t.trim())).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(10|172\.16|192\.168)\.0\.0\.0\/(8|12|16)$/)]),
    );
    expect(trusted).not.toBe('true');
  });

  it("dev's DATABASE_URL names the Service deploy/README's PostgreSQL chart install creates", () => {
    // Bitnami names it `<release>-postgresql` unless the release name contains `postgresql` or
    // fullnameOverride says otherwise: release `postgres` made `postgres-postgresql`, which the
    // dev overlay's `postgres.postgres.svc` never reached.
    const install = readFileSync(join(root, 'deploy/README.md'), 'utf8')
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .find((l) => /helm upgrade --install \S+ oci:\/\/\S+\/bitnamicharts\/postgresql /.test(l));
    expect(install).toBeDefined();
    const release = /--install (\S+)/.exec(install!)![1];
    const namespace = /-n (\S+)/.exec(install!)![1];
    const override = /--set fullnameOverride=(\S+)/.exec(install!)?.[1];
    const service = override ?? (release.includes('postgresql') ? release : `${release}-postgresql`);
    const secret = k.find(dev, 'Secret', 'portcullis-secrets');
    const url = Buffer.from(String(secret.data?.DATABASE_URL), 'base64').toString();
    expect(new URL(url).hostname).toBe(`${service}.${namespace}.svc.cluster.local`);
  });

  it.each(['prod', 'dev'])('%s: every file a container is told to read is mounted in its pod', (overlay) => {
    // NODE_EXTRA_CA_CERTS naming a file the pod lacks made Node write a plain-text warning at every
    // gateway start (the PostgreSQL CA, shared through the ConfigMap): a line no log pipeline parses.
    const objects = overlay === 'prod' ? prod : dev;
    const missing: string[] = [];
    for (const [name, w] of Object.entries(k.workloads(objects))) {
      for (const c of k.podSpec(w).containers) {
        const env = k.effectiveEnv(c, objects);
        for (const v of ['NODE_EXTRA_CA_CERTS', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY', 'NATS_CREDS']) {
          if (env[v] && !k.mountedFile(k.podSpec(w), c, env[v])) missing.push(`${name}: ${v}=${env[v]}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('prod verifies PostgreSQL over TLS from auth-core and the migration Job', () => {
    const job = k.find(prod, 'Job', 'portcullis-migrate');
    for (const [w, c] of [
      [deployment('auth-core'), container('auth-core')],
      [job, k.podSpec(job).containers[0]],
    ] as const) {
      const env = k.effectiveEnv(c, prod);
      expect(env.PGSSLMODE).toBe('verify-full');
      expect(k.mountedFile(k.podSpec(w), c, env.NODE_EXTRA_CA_CERTS)).toBe(true);
    }
  });

  it('prod configuration is accepted by both apps (secrets stand in as placeholders)', () => {
    const placeholders: Record<string, string> = {
      DATABASE_URL: 'postgres://portcullis:placeholder@db.example:5432/portcullis',
      MASTER_KEY: 'p'.repeat(48),
      ADMIN_PASSWORD: 'placeholder-admin',
      CLIENT_REGISTRATION_TOKEN: 'placeholder-registration-token',
      NATS_PASSWORD: 'placeholder',
    };
    const check = (cls: new () => object, env: Record<string, string>) =>
      validateSync(plainToInstance(cls, env), { whitelist: true })
        // Mounted files exist in the pod, not here; the mounts are checked above.
        .filter((e) => !Object.keys(e.constraints ?? {}).every((c) => c === 'readableFile'))
        .map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    const coreEnv = k.effectiveEnv(container('auth-core'), prod, placeholders);
    expect(coreEnv.NODE_ENV).toBe('production');
    expect(coreEnv.MIGRATE_ON_START).toBe('false');
    expect(check(AuthCoreEnvDto, coreEnv)).toEqual([]);
    expect(check(GatewayEnvDto, k.effectiveEnv(container('gateway'), prod, placeholders))).toEqual([]);
    expect(check(ExampleEnvDto, k.effectiveEnv(container('example-service'), prod, placeholders))).toEqual([]);
    // Graceful shutdown fits in the grace period Kubernetes gives before SIGKILL.
    for (const name of ['auth-core', 'gateway']) {
      const env = k.effectiveEnv(container(name), prod, placeholders);
      const grace = (k.podSpec(deployment(name)).terminationGracePeriodSeconds ?? 30) * 1000;
      expect(Number(env.SHUTDOWN_TIMEOUT_MS) + Number(env.SHUTDOWN_DELAY_MS ?? 0)).toBeLessThan(grace);
    }
    expect(Number(k.effectiveEnv(container('gateway'), prod).SHUTDOWN_DELAY_MS)).toBeGreaterThan(0);
  });

  it('references only Secrets that the template and deploy/README.md document, with no value committed', () => {
    const template = parse(readFileSync(join(root, 'deploy/k8s/base/secret.template.yaml'), 'utf8')) as k.K8sObject;
    const templateKeys = Object.keys(template.stringData ?? {});
    expect(Object.values(template.stringData ?? {}).every((v) => v === '')).toBe(true);
    expect(prod.filter((o) => o.kind === 'Secret')).toEqual([]);
    const readme = readFileSync(join(root, 'deploy/README.md'), 'utf8');
    for (const ref of k.secretRefs(prod)) {
      expect(readme).toContain(ref.name);
      if (ref.name === 'portcullis-secrets' && ref.key) expect(templateKeys).toContain(ref.key);
      if (ref.key) expect(readme).toContain(ref.key);
    }
    for (const key of ['DATABASE_URL', 'MASTER_KEY']) expect(templateKeys).toContain(key);
  });

  describe('NetworkPolicy', () => {
    const policies = prod.filter((o) => o.kind === 'NetworkPolicy');

    it('isolates every pod both ways by default', () => {
      for (const [name, w] of Object.entries(workloads)) {
        const selecting = k.policiesFor(policies, k.podLabels(w));
        expect([name, selecting.some((p) => k.policyTypes(p).includes('Ingress'))]).toEqual([name, true]);
        expect([name, selecting.some((p) => k.policyTypes(p).includes('Egress'))]).toEqual([name, true]);
      }
    });

    it('admits traffic from outside the namespace to the gateway only', () => {
      const exposed = Object.entries(workloads)
        .filter(([, w]) => k.reachableFromOutside(policies, k.podLabels(w)))
        .map(([name]) => name);
      expect(exposed).toEqual(['gateway']);
    });

    it('lets only auth-core and its migration Job reach PostgreSQL', () => {
      const dbClients = Object.entries(workloads)
        .filter(([, w]) => k.egressAllowsPort(policies, k.podLabels(w), 5432))
        .map(([name]) => name)
        .sort();
      expect(dbClients).toEqual(['auth-core', 'portcullis-migrate']);
    });

    it('lets every app reach NATS', () => {
      for (const name of Object.keys(APPS)) {
        expect([name, k.egressAllowsPort(policies, k.podLabels(deployment(name)), 4222)]).toEqual([name, true]);
      }
    });
  });
});
