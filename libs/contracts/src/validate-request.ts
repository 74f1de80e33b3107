import { isIP } from 'node:net';
import { ValidateTokenRequestDto } from './dto/validate-token.dto';
import { PortcullisError, WireError } from './error-codes';
import { validatePayload } from './validate-payload';

const FIELDS = new Set(['token', 'roles', 'permissions', 'tenant', 'clientIp']);
const PLAIN = /^[\x21-\x7e]+$/;
const plainString = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max && PLAIN.test(v);
const plainStrings = (v: unknown, max: number): boolean =>
  Array.isArray(v) && v.length <= 32 && v.every((s) => plainString(s, max));

/**
 * The request as nearly every caller sends it — `{token}`, maybe with roles/permissions/tenant/
 * clientIp made of plain ASCII — recognised without class-transformer/class-validator, which cost
 * more than the rest of a cached validation. It accepts only what ValidateTokenRequestDto
 * accepts; anything else (null, odd characters, oversize, unknown fields) returns null and takes
 * the full path, which gives the exact BAD_REQUEST details.
 */
export function plainValidRequest(payload: unknown): ValidateTokenRequestDto | null {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const p = payload as Record<string, unknown>;
  for (const k of Object.keys(p)) if (!FIELDS.has(k)) return null;
  if (typeof p.token !== 'string' || p.token.length === 0 || p.token.length > 8192) return null;
  if (p.roles !== undefined && !plainStrings(p.roles, 64)) return null;
  if (p.permissions !== undefined && !plainStrings(p.permissions, 64)) return null;
  if (p.tenant !== undefined && !plainString(p.tenant, 128)) return null;
  if (p.clientIp !== undefined && !(plainString(p.clientIp, 64) && isIP(p.clientIp as string))) return null;
  return p as unknown as ValidateTokenRequestDto;
}

/**
 * An `auth.v1.token.validate` request as auth-core takes it, or the BAD_REQUEST it answers instead.
 * Every validator judges the same requests: auth-core (main thread and workers) and the SDK's local
 * mode, which otherwise judged a 200-character tenant or 33 roles that auth-core refuses.
 */
export function checkValidateRequest(payload: unknown): { req: ValidateTokenRequestDto } | { error: WireError } {
  try {
    return { req: plainValidRequest(payload) ?? validatePayload(ValidateTokenRequestDto, payload) };
  } catch (err) {
    const e = err as PortcullisError;
    return { error: { code: 'BAD_REQUEST', message: e.message, details: e.details } };
  }
}
