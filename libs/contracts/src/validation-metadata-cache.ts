import { getMetadataStorage } from 'class-validator';

type Storage = ReturnType<typeof getMetadataStorage>;
type Metadatas = ReturnType<Storage['getTargetValidationMetadatas']>;
type Grouped = ReturnType<Storage['groupByPropertyName']>;

const INSTALLED = Symbol.for('portcullis.validationMetadataCache');

/**
 * Makes class-validator's metadata lookups O(1) after the first validation of each class.
 *
 * class-validator 0.15 resolves a class's rules on every `validate` by testing the class against
 * every decorated class of the process (`instanceof`, to find inherited rules) and regrouping the
 * result by property (typestack/class-validator#2686, open). With the contracts' DTOs loaded, that
 * was the biggest single cost of class-validator in both apps' profiles (bench/NOTES.md, session
 * 11). The rules of a class never change once it is defined, so the answer is kept per class and
 * per option set; any metadata registered later (a class defined after the first validation)
 * drops everything kept, so no answer can go stale. What is returned is the library's own answer,
 * computed by the library's own method.
 *
 * Idempotent; both apps call it once at boot, before the first validation.
 */
export function cacheValidationMetadata(storage: Storage = getMetadataStorage()): void {
  const s = storage as Storage & { [INSTALLED]?: true };
  if (s[INSTALLED]) return;
  s[INSTALLED] = true;

  let byTarget = new Map<unknown, Map<string, Metadatas>>();
  let grouped = new WeakMap<Metadatas, Grouped>();
  let handedOut = new WeakSet<Metadatas>();
  const forget = (): void => {
    byTarget = new Map();
    grouped = new WeakMap();
    handedOut = new WeakSet();
  };

  const lookup = s.getTargetValidationMetadatas.bind(s);
  s.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups ? JSON.stringify(groups) : ''}`;
    let forTarget = byTarget.get(target);
    if (!forTarget) byTarget.set(target, (forTarget = new Map()));
    let found = forTarget.get(key);
    if (!found) {
      forTarget.set(key, (found = lookup(target, schema, always, strictGroups, groups)));
      handedOut.add(found);
    }
    return found;
  };

  // Only arrays this cache handed out are kept: any other array is grouped afresh, as before.
  const group = s.groupByPropertyName.bind(s);
  s.groupByPropertyName = (metadatas) => {
    let found = grouped.get(metadatas);
    if (!found) {
      found = group(metadatas);
      if (handedOut.has(metadatas)) grouped.set(metadatas, found);
    }
    return found;
  };

  for (const method of ['addValidationMetadata', 'addConstraintMetadata', 'addValidationSchema'] as const) {
    const add = (s[method] as (arg: never) => void).bind(s);
    (s as unknown as Record<string, (arg: never) => void>)[method] = (arg) => {
      forget();
      add(arg);
    };
  }
}
