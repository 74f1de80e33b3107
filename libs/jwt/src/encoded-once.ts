/**
 * The encoding of a positive validation reply, made once per claims object. The verified-token
 * cache hands back the same claims object for as long as it remembers a token, so the reply is
 * the same bytes every time; the verdict (revocation, owner state, requirements) is still reached
 * on every request; only its encoding is reused. Keyed weakly: forgotten with the claims.
 */
export function encodedOncePerClaims<T>(encode: (claims: object) => T): (claims: object) => T {
  const encoded = new WeakMap<object, T>();
  return (claims) => {
    let out = encoded.get(claims);
    if (out === undefined) {
      out = encode(claims);
      encoded.set(claims, out);
    }
    return out;
  };
}
