import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsDateString,
  IsInt,
  IsString,
  isDateString,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
} from 'class-validator';
import { toInt, toList } from './query-transforms';

/**
 * The field rules that recur across payloads, written once. Optionality stays at the use site
 * (`@IsOptional()`), so each DTO still reads as its own contract.
 */
/** Applies several property decorators as one (contracts stay free of any framework). */
export const applyDecorators =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) => {
    for (const d of decorators) d(target, key);
  };

export const ROLE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const TENANT_PATTERN = /^(\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,127})$/;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]+$/;

/**
 * The longest path parameter any route takes (a PAT's value or name in
 * `DELETE /users/…/tokens/{tokenOrName}`; client ids are 128). The gateway's router refuses longer
 * ones before validation, so the two must stay in step.
 */
export const MAX_PATH_PARAM_LENGTH = 256;

/**
 * A date or date-time in the calendar form JavaScript and PostgreSQL both read, and read alike.
 * Strict ISO 8601 alone also takes week dates (`2030-W01`), the basic form (`20300101`), negative
 * years and an hour without minutes, which one of the two could not read: the query or the insert
 * failed, a 500 instead of a 400.
 */
const DATE_TIME = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$/;
export const IsDateTime = (message = '$property must be an ISO-8601 date-time') =>
  applyDecorators(IsDateString({ strict: true }, { message }), Matches(DATE_TIME, { message }));

/** A lifetime given as seconds from now (an integer, 1 or more) or as the moment itself (a date-time). */
export const IsSecondsOrDateTime = () =>
  ValidateBy({
    name: 'isSecondsOrDateTime',
    validator: {
      validate: (v: unknown) =>
        (Number.isInteger(v) && (v as number) >= 1) ||
        (typeof v === 'string' && isDateString(v, { strict: true }) && DATE_TIME.test(v)),
      defaultMessage: () => '$property must be a number of seconds (1 or more) or an ISO-8601 date-time',
    },
  });

/**
 * Each value once: these lists are stored (roles, tenants, permissions) or select what is revoked,
 * and a repeat would be kept as given and shown back, so it is refused as bad input instead.
 */
const EachOnce = () => ArrayUnique(undefined, { message: '$property must not name the same value twice' });

/** A JSON array of distinct strings matching `pattern`. */
export const StringList = (pattern: RegExp, max: number) =>
  applyDecorators(IsArray(), ArrayMaxSize(max), IsString({ each: true }), Matches(pattern, { each: true }), EachOnce());

/**
 * The same from a query string: `a,b` or repeated `?x=a&x=b`. Given, it names at least one value:
 * `?client_ids=` would otherwise read as no filter at all, and `DELETE /tokens/all` would revoke
 * every token instead of none.
 */
export const QueryStringList = (pattern: RegExp, max: number) =>
  applyDecorators(
    Transform(toList),
    StringList(pattern, max),
    ArrayNotEmpty({ message: '$property must name at least one value (leave it out to not filter)' }),
  );

/** A listing's `roles` filter: what holds every role named. */
export const RoleFilter = () => QueryStringList(ROLE_PATTERN, 16);

/** Names as given: 1-64 characters each, checked against what is held or required. */
const Names = (max: number) =>
  applyDecorators(IsArray(), ArrayMaxSize(max), IsString({ each: true }), Length(1, 64, { each: true }));

/** Names that are granted and stored (a PAT's or API key's permissions, a token's roles), each once. */
export const NameList = (max = 32) => applyDecorators(Names(max), EachOnce());

/**
 * What a token is validated against (`roles`, `permissions` of auth.v1.token.validate). Nothing is
 * stored and a repeat asks for nothing more, so services that send one are not broken by a 400.
 */
export const RequirementList = (max = 32) => Names(max);

export const RoleList = (max = 32) => StringList(ROLE_PATTERN, max);
export const TenantList = (max = 64) => StringList(TENANT_PATTERN, max);

export const PageLimit = () => applyDecorators(Transform(toInt), IsInt(), Min(1), Max(200));
export const PageCursor = () => applyDecorators(IsString(), Length(1, 200), Matches(CURSOR_PATTERN));

/** The caller's bearer, carried by every NATS request made on someone's behalf. */
export const BearerField = () => applyDecorators(IsString(), Length(1, 8192));

// TypeScript's mixin pattern requires exactly this constructor signature.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ctor<T = object> = new (...args: any[]) => T;

/** A NATS payload: the HTTP shape plus the caller's bearer, which auth-core judges itself. */
export function WithAuth<T extends Ctor>(Base: T) {
  class Authenticated extends Base {
    @BearerField() auth!: string;
  }
  return Authenticated;
}
