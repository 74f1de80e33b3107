import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';

/**
 * Unknown-field check for Kubernetes objects. The JSON schemas kubernetes-models validates with
 * allow unknown properties (as the API server does without --validate=strict), so a misspelt
 * `readinessprobe` or a `securityContext` at the wrong level would pass them and be silently
 * dropped by the cluster. Here every field of an object is looked up in the TypeScript interface
 * kubernetes-models generates from the same OpenAPI spec.
 */
// kubernetes-models is ESM-only with an exports map, so it is located by path rather than resolved.
const MODELS = join(__dirname, '../../node_modules/kubernetes-models');

let program: ts.Program | undefined;
const files = new Map<string, string>();

/** `apps/v1` + `Deployment` → node_modules/kubernetes-models/apps/v1/Deployment.d.ts */
function declarationFile(apiVersion: string, kind: string): string {
  const file = join(MODELS, apiVersion, `${kind}.d.ts`);
  if (!existsSync(file)) throw new Error(`no model for ${apiVersion} ${kind}`);
  return file;
}

function load(objects: Array<{ apiVersion: string; kind: string }>): ts.Program {
  for (const o of objects) files.set(`${o.apiVersion}/${o.kind}`, declarationFile(o.apiVersion, o.kind));
  const roots = [...files.values()];
  if (!program || roots.some((f) => !program?.getSourceFile(f))) {
    program = ts.createProgram(roots, { skipLibCheck: true, noEmit: true, types: [] }, undefined, program);
  }
  return program;
}

function rootType(checker: ts.TypeChecker, file: ts.SourceFile, kind: string): ts.Type {
  let found: ts.InterfaceDeclaration | undefined;
  file.forEachChild((n) => {
    if (ts.isInterfaceDeclaration(n) && n.name.text === `I${kind}`) found = n;
  });
  if (!found) throw new Error(`interface I${kind} not found in ${file.fileName}`);
  return checker.getTypeAtLocation(found);
}

function walk(checker: ts.TypeChecker, type: ts.Type, value: unknown, path: string, errors: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const t = checker.getNonNullableType(type);
  if (Array.isArray(value)) {
    const element = checker.getIndexTypeOfType(t, ts.IndexKind.Number);
    if (element) value.forEach((v, i) => walk(checker, element, v, `${path}[${i}]`, errors));
    return;
  }
  // A union of an object type and primitives (IntOrString and the like): use the object member.
  const candidates = t.isUnion() ? t.types.filter((m) => m.flags & ts.TypeFlags.Object) : [t];
  if (candidates.length !== 1) return;
  const objType = candidates[0];
  const index = checker.getIndexTypeOfType(objType, ts.IndexKind.String);
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const prop = checker.getPropertyOfType(objType, key);
    if (prop) {
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      if (decl) walk(checker, checker.getTypeOfSymbolAtLocation(prop, decl), v, `${path}.${key}`, errors);
    } else if (index) {
      walk(checker, index, v, `${path}.${key}`, errors);
    } else {
      errors.push(`${path}.${key}`);
    }
  }
}

/** Paths of fields that the object's Kubernetes type does not define (empty when all are known). */
export function unknownFields(objects: Array<{ apiVersion: string; kind: string }>): Map<object, string[]> {
  const p = load(objects);
  const checker = p.getTypeChecker();
  const result = new Map<object, string[]>();
  for (const o of objects) {
    const file = p.getSourceFile(declarationFile(o.apiVersion, o.kind)) as ts.SourceFile;
    const errors: string[] = [];
    walk(checker, rootType(checker, file, o.kind), o, o.kind, errors);
    result.set(o, errors);
  }
  return result;
}
