/**
 * The `scope` member of a token reply for a grant that does not narrow the token to the scope
 * asked (token exchange): RFC 6749 §3.3 lets the server ignore the request but then
 * requires the reply to say what was granted — here the token's roles. Undefined when no scope was
 * asked, or when what was granted is what was asked (the order of scope tokens does not matter).
 */
export function grantedScope(requested: string | undefined, roles: readonly string[]): string | undefined {
  const asked = new Set((requested ?? '').split(' ').filter(Boolean));
  if (!asked.size) return undefined;
  const granted = [...new Set(roles)];
  const same = granted.length === asked.size && granted.every((r) => asked.has(r));
  return same ? undefined : granted.join(' ');
}
