/**
 * A credential's tenants that its owner still holds (SPEC §3: a PAT's or API key's tenants are a
 * subset of the owner's, also after the owner loses one). `*` is every tenant: an owner with it
 * keeps the credential's own, and a credential with it gets what the owner holds now.
 */
export function narrowTenants(credential: string[], owner: string[]): string[] {
  if (owner.includes('*')) return credential;
  if (credential.includes('*')) return owner;
  return credential.filter((t) => owner.includes(t));
}
