import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { ErrorDetail, PortcullisError } from './error-codes';

type Ctor<T> = new () => T;

function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, errors: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Validation options used on both sides of NATS: unknown fields are an error, not ignored. */
export const VALIDATION_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
} as const;

export function describeValidationErrors(errors: ValidationError[]): ErrorDetail[] {
  return flatten(errors);
}

/** Fields named in one BAD_REQUEST at most, and how much of a name or message is repeated. */
const MAX_DETAILS = 20;
const MAX_TEXT = 120;
const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

/**
 * The answer to bad input, naming the bad fields. Bounded: a request with 20,000 unknown keys, or
 * one key of 400 kB, would otherwise get a reply larger than NATS carries (max_payload), and a
 * caller would hear nothing at all. The first fields are named, and how many more there were.
 */
export function badRequest(details: ErrorDetail[]): PortcullisError {
  const shown = details.slice(0, MAX_DETAILS).map((d) => ({
    field: clip(d.field),
    errors: d.errors.slice(0, 5).map(clip),
  }));
  const names = [...new Set(shown.map((d) => d.field))];
  const more = new Set(details.map((d) => d.field)).size - names.length;
  const message = `Invalid request: ${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
  return new PortcullisError('BAD_REQUEST', message, shown);
}

/** Deepest nesting of objects and arrays any input may have; class-transformer recurses per level. */
export const MAX_INPUT_DEPTH = 32;

/**
 * Whether the value nests objects or arrays deeper than `max`. Walked without recursion: the point
 * is to refuse input that would exhaust the stack of the recursive code after it (class-transformer,
 * class-validator), which turned a 10,000-deep body into an internal error instead of a 400.
 */
export function nestedDeeperThan(value: unknown, max = MAX_INPUT_DEPTH): boolean {
  let level: unknown[] = [value];
  for (let depth = 0; level.length; depth++) {
    const next: unknown[] = [];
    for (const v of level)
      if (v !== null && typeof v === 'object') for (const child of Object.values(v as object)) next.push(child);
    if (next.some((c) => c !== null && typeof c === 'object') && depth + 1 > max) return true;
    level = next.filter((c) => c !== null && typeof c === 'object');
  }
  return false;
}

export const tooDeep = (): PortcullisError =>
  badRequest([{ field: '(body)', errors: [`must not nest objects or arrays more than ${MAX_INPUT_DEPTH} deep`] }]);

/**
 * Fields whose string value (or name) holds a NUL character. PostgreSQL can neither store nor
 * compare one in text, so such a value would fail deep inside a query as an internal error;
 * it is bad input and is refused as such, before anything runs.
 */
export function nulCharacters(value: unknown, field = '', depth = 0): ErrorDetail[] {
  const here = field || '(body)';
  if (typeof value === 'string')
    return value.includes('\u0000') ? [{ field: here, errors: ['must not contain NUL characters'] }] : [];
  if (value === null || typeof value !== 'object' || depth > 8) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const path = field ? `${field}.${k}` : k;
    return k.includes('\u0000')
      ? [{ field: path, errors: ['must not contain NUL characters'] }]
      : nulCharacters(v, path, depth + 1);
  });
}

const nullable = new WeakMap<object, Set<string>>();

/**
 * Marks a field that accepts an explicit `null` (e.g. "remove this cap"). Every other field
 * refuses it: class-validator's @IsOptional() lets null through, and a null that reaches a NOT
 * NULL column fails inside the database as an internal error instead of answering 400.
 */
export const Nullable = (): PropertyDecorator => (target, key) => {
  let fields = nullable.get(target);
  if (!fields) nullable.set(target, (fields = new Set()));
  fields.add(String(key));
};

function isNullable(cls: Ctor<object> | (abstract new () => object), field: string): boolean {
  for (let proto = cls.prototype as object | null; proto; proto = Object.getPrototypeOf(proto) as object | null)
    if (nullable.get(proto)?.has(field)) return true;
  return false;
}

/** Own fields of the payload that are `null` where the DTO does not allow it. */
export function nullFields(cls: Ctor<object> | (abstract new () => object), payload: object): ErrorDetail[] {
  return Object.entries(payload)
    .filter(([k, v]) => v === null && !isNullable(cls, k))
    .map(([field]) => ({ field, errors: [`${field} must not be null (leave it out instead)`] }));
}

const knownFields = new WeakMap<object, Set<string>>();

/**
 * Own keys of the payload that the DTO does not declare. class-transformer silently drops keys
 * named like Object.prototype members (`constructor`, `toString`, `__proto__`…), so the
 * whitelist check alone would never see them.
 */
export function unknownFields(cls: Ctor<object> | (abstract new () => object), payload: object): ErrorDetail[] {
  let known = knownFields.get(cls);
  if (!known) {
    known = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(cls as Ctor<object>, '', true, false)
        .map((m) => m.propertyName),
    );
    knownFields.set(cls, known);
  }
  return Object.keys(payload)
    .filter((k) => !known!.has(k))
    .map((field) => ({ field, errors: [`property ${field} should not exist`] }));
}

/**
 * Turns an untrusted payload into a validated DTO instance, or throws BAD_REQUEST naming every
 * bad field. Used by auth-core for every NATS payload and by the gateway for HTTP input.
 */
/** What a NATS payload that is not JSON at all decodes to, so that every handler refuses it the same way. */
export const NOT_JSON: unique symbol = Symbol('not JSON');

export function validatePayload<T extends object>(cls: Ctor<T>, payload: unknown): T {
  if (payload === NOT_JSON)
    throw new PortcullisError('BAD_REQUEST', 'Request body is not valid JSON', [
      { field: '(body)', errors: ['must be valid JSON'] },
    ]);
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new PortcullisError('BAD_REQUEST', 'Request body must be a JSON object', [
      { field: '(body)', errors: ['must be a JSON object'] },
    ]);
  }
  if (nestedDeeperThan(payload)) throw tooDeep();
  const nul = nulCharacters(payload);
  if (nul.length) throw badRequest(nul);
  const unknown = unknownFields(cls, payload);
  const named = new Set(unknown.map((u) => u.field));
  const nulls = nullFields(cls, payload).filter((n) => !named.has(n.field));
  // Unknown fields are named already: class-transformer and class-validator would only walk them
  // again, and a payload of 50,000 of them cost seconds of the event loop there.
  const known = unknown.length ? Object.fromEntries(Object.entries(payload).filter(([k]) => !named.has(k))) : payload;
  const instance = plainToInstance(cls, known);
  const errors = validateSync(instance, VALIDATION_OPTIONS);
  if (errors.length > 0 || unknown.length > 0 || nulls.length > 0) {
    for (const n of nulls) named.add(n.field);
    const details = flatten(errors).filter((d) => !named.has(d.field));
    throw badRequest([...unknown, ...nulls, ...details]);
  }
  return instance;
}
