// Validates Kubernetes objects (a JSON array on stdin) against the API's OpenAPI schemas with
// kubernetes-models, and prints a JSON array of {kind, name, error} for the invalid ones.
// A separate ESM process because kubernetes-models ships ESM only (import-only exports map),
// which the CommonJS jest runtime cannot load.
import process from 'node:process';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const objects = JSON.parse(input);
const problems = [];
for (const o of objects) {
  const module = o.apiVersion === 'v1' ? 'kubernetes-models/v1' : `kubernetes-models/${o.apiVersion}`;
  let Model;
  try {
    Model = (await import(module))[o.kind];
  } catch (err) {
    problems.push({
      kind: o.kind,
      name: o.metadata?.name,
      error: `unknown apiVersion ${o.apiVersion}: ${err.message}`,
    });
    continue;
  }
  if (!Model) {
    problems.push({ kind: o.kind, name: o.metadata?.name, error: `no ${o.kind} in ${o.apiVersion}` });
    continue;
  }
  try {
    new Model(o).validate();
  } catch (err) {
    problems.push({ kind: o.kind, name: o.metadata?.name, error: err.message });
  }
}
process.stdout.write(JSON.stringify(problems));
