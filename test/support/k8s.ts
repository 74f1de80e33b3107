/**
 * Small readers over rendered Kubernetes objects for test/infra/k8s.spec.ts, including just
 * enough NetworkPolicy semantics (selectors, peers, ports) to ask "who may talk to whom".
 */
export type Selector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
};
type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string };
    secretKeyRef?: { name: string; key: string };
    fieldRef?: unknown;
  };
};
type Probe = { httpGet?: { path: string; port: number | string }; timeoutSeconds?: number };
export type Container = {
  name: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
};
export type PodSpec = {
  containers: Container[];
  volumes?: Array<{ name: string; emptyDir?: unknown; secret?: { items?: Array<{ key: string; path: string }> } }>;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
};
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown> & { replicas?: number; minReplicas?: number; selector?: unknown };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
};
type Peer = { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: unknown };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: Array<{ port?: number | string }> };

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind} ${name} not rendered`);
  return o;
}

export const podTemplate = (w: K8sObject) =>
  (w.spec as { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }).template;
export const podSpec = (w: K8sObject): PodSpec => podTemplate(w).spec;
export const podLabels = (w: K8sObject): Record<string, string> => podTemplate(w).metadata.labels ?? {};

/** Deployments and Jobs by name: everything that runs a pod. */
export function workloads(objects: K8sObject[]): Record<string, K8sObject> {
  return Object.fromEntries(
    objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job').map((o) => [o.metadata.name, o]),
  );
}

export function distEntry(command: string[] = [], args: string[] = []): string | undefined {
  return [...command, ...args].find((w) => /^(\.\/|\/app\/)?dist\/.+\.js$/.test(w))?.replace(/^(\.\/|\/app\/)/, '');
}

export function containerPort(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return c.ports?.some((p) => p.containerPort === port) ? port : undefined;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/**
 * The environment a container sees: envFrom first, then env (which wins). Secret values are not
 * rendered (they live outside git), so they come from `secrets` or are left out.
 */
export function effectiveEnv(
  c: Container,
  objects: K8sObject[],
  secrets: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  const configMap = (name: string) => find(objects, 'ConfigMap', name).data ?? {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, configMap(from.configMapRef.name));
    if (from.secretRef) Object.assign(env, secrets);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.configMapKeyRef) {
      const v = configMap(e.valueFrom.configMapKeyRef.name)[e.valueFrom.configMapKeyRef.key];
      if (v === undefined) throw new Error(`ConfigMap key ${e.valueFrom.configMapKeyRef.key} missing`);
      env[e.name] = v;
    } else if (e.valueFrom?.secretKeyRef && secrets[e.name] !== undefined) env[e.name] = secrets[e.name];
  }
  // Empty means unset to both apps' config loaders.
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
}

/** True when `file` lies under one of the container's mounts, and a Secret mount projects it. */
export function mountedFile(spec: PodSpec, c: Container, file: string | undefined): boolean {
  if (!file) return false;
  const mount = c.volumeMounts?.find((m) => file.startsWith(m.mountPath.replace(/\/?$/, '/')));
  const volume = spec.volumes?.find((v) => v.name === mount?.name);
  if (!mount || !volume) return false;
  const rel = file.slice(mount.mountPath.replace(/\/?$/, '/').length);
  return !volume.secret?.items || volume.secret.items.some((i) => i.path === rel);
}

export function secretRefs(objects: K8sObject[]): Array<{ name: string; key?: string }> {
  const refs: Array<{ name: string; key?: string }> = [];
  for (const w of Object.values(workloads(objects))) {
    const spec = podSpec(w);
    for (const c of spec.containers) {
      for (const f of c.envFrom ?? []) if (f.secretRef) refs.push({ name: f.secretRef.name });
      for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) refs.push({ ...e.valueFrom.secretKeyRef });
    }
    for (const v of spec.volumes ?? []) {
      const s = (v as { secret?: { secretName: string; items?: Array<{ key: string }> } }).secret;
      if (s) for (const i of s.items ?? [{ key: undefined }]) refs.push({ name: s.secretName, key: i.key });
    }
  }
  return refs;
}

export function matches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

export function selects(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  return (
    matches(selector.matchLabels, labels) &&
    (selector.matchExpressions ?? []).every((e) => {
      const has = e.key in labels;
      switch (e.operator) {
        case 'In':
          return has && (e.values ?? []).includes(labels[e.key]);
        case 'NotIn':
          return !has || !(e.values ?? []).includes(labels[e.key]);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          throw new Error(`unknown operator ${e.operator}`);
      }
    })
  );
}

export function policyTypes(p: K8sObject): string[] {
  const spec = p.spec as { policyTypes?: string[]; egress?: unknown };
  return spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

export function policiesFor(policies: K8sObject[], labels: Record<string, string>): K8sObject[] {
  return policies.filter((p) => selects(p.spec?.podSelector as Selector, labels));
}

const rules = (p: K8sObject, dir: 'ingress' | 'egress') => ((p.spec?.[dir] as Rule[] | undefined) ?? []) as Rule[];

/** Only Prometheus' namespace counts as "inside"; any other source outside this namespace is outside. */
const MONITORING = { 'kubernetes.io/metadata.name': 'monitoring' };

/**
 * Whether some policy admits traffic from beyond this namespace (and monitoring) to these pods:
 * a rule with no `from` (anyone), an ipBlock, or a namespaceSelector other than monitoring's.
 */
export function reachableFromOutside(policies: K8sObject[], labels: Record<string, string>): boolean {
  return policiesFor(policies, labels)
    .filter((p) => policyTypes(p).includes('Ingress'))
    .some((p) =>
      rules(p, 'ingress').some(
        (r) =>
          !r.from ||
          r.from.length === 0 ||
          r.from.some(
            (peer) =>
              peer.ipBlock !== undefined ||
              (peer.namespaceSelector !== undefined &&
                JSON.stringify(peer.namespaceSelector.matchLabels ?? {}) !== JSON.stringify(MONITORING)),
          ),
      ),
    );
}

/** Whether some egress rule of a policy selecting these pods allows this TCP port (to any peer). */
export function egressAllowsPort(policies: K8sObject[], labels: Record<string, string>, port: number): boolean {
  return policiesFor(policies, labels)
    .filter((p) => policyTypes(p).includes('Egress'))
    .some((p) =>
      rules(p, 'egress').some((r) => !r.ports || r.ports.length === 0 || r.ports.some((x) => x.port === port)),
    );
}
