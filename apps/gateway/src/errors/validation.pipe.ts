import { ArgumentMetadata, Injectable, PipeTransform, ValidationPipe } from '@nestjs/common';
import {
  badRequest,
  describeValidationErrors,
  nestedDeeperThan,
  PortcullisError,
  tooDeep,
  unknownFields,
  VALIDATION_OPTIONS,
} from '@portcullis/contracts';

const PRIMITIVES: unknown[] = [String, Boolean, Number, Array, Object];

/** DTO classes whose unknown fields are dropped rather than refused. */
const LENIENT = new WeakSet<object>();

/**
 * Class decorator for inputs whose standard says unknown parameters are ignored (RFC 6749 §3.1
 * and §3.2, which RFC 7009 and RFC 7662 follow): OAuth clients send extensions freely (`resource`,
 * `nonce`, …). Known fields are still checked as strictly as anywhere else. The same section
 * treats a parameter sent without a value as omitted: empty strings are dropped too.
 */
export function IgnoresUnknownFields(): ClassDecorator {
  return (cls) => {
    LENIENT.add(cls);
  };
}

/**
 * HTTP input gets the same rules as NATS payloads: unknown fields are refused (including names
 * like `constructor` that class-transformer would silently drop), bad ones are named.
 */
@Injectable()
export class StrictValidationPipe implements PipeTransform {
  private readonly inner = new ValidationPipe({
    ...VALIDATION_OPTIONS,
    transform: true,
    exceptionFactory: (errors) => badRequest(describeValidationErrors(errors)),
  });

  /**
   * DTO classes for which an empty input is valid and becomes a bare instance. The decorators are
   * static, so the verdict on `{}` never changes: the hot routes called without a query string
   * (GET /auth/validate) skip class-transformer and class-validator after the first time.
   */
  private readonly emptyIsBare = new Set<unknown>();

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const cls = metadata.metatype;
    const checkable =
      cls &&
      !PRIMITIVES.includes(cls) &&
      !!value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      metadata.type !== 'custom';
    if (checkable && this.emptyIsBare.has(cls) && isEmpty(value)) return new (cls as new () => object)();
    if (checkable && nestedDeeperThan(value)) throw tooDeep();
    let unknown = checkable ? unknownFields(cls as new () => object, value as object) : [];
    if (checkable && LENIENT.has(cls as object)) {
      const drop = new Set(unknown.map((u) => u.field));
      value = Object.fromEntries(Object.entries(value as object).filter(([k, v]) => v !== '' && !drop.has(k)));
      unknown = [];
    }
    let result: unknown;
    try {
      result = await this.inner.transform(value, metadata);
    } catch (err) {
      if (!unknown.length || !(err instanceof PortcullisError) || err.details === null) throw err;
      // One answer naming every bad field, unknown or invalid.
      throw badRequest([...unknown, ...err.details.filter((d) => !unknown.some((u) => u.field === d.field))]);
    }
    if (unknown.length) throw badRequest(unknown);
    if (checkable && isEmpty(value) && isBareInstance(result, cls)) this.emptyIsBare.add(cls);
    return result;
  }
}

/** No own enumerable field (also used by the body rules hook). */
export function isEmpty(value: unknown): boolean {
  for (const key in value as object) if (Object.prototype.hasOwnProperty.call(value, key)) return false;
  return true;
}

const allUndefined = (o: object) => Object.values(o).every((v) => v === undefined);

/** What `new cls()` gives: the class's instance, every field unset (no defaults the transform filled in). */
function isBareInstance(result: unknown, cls: unknown): boolean {
  return (
    result instanceof (cls as new () => object) &&
    allUndefined(result as object) &&
    allUndefined(new (cls as new () => object)())
  );
}
