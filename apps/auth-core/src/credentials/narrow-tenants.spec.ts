import { narrowTenants } from './narrow-tenants';

describe('narrowTenants (a PAT never keeps a tenant its owner has lost)', () => {
  it('keeps only the tenants the owner still holds', () => {
    expect(narrowTenants(['t1', 't2'], ['t2', 't3'])).toEqual(['t2']);
    expect(narrowTenants(['t1'], [])).toEqual([]);
  });

  it('reads `*` as every tenant, on either side', () => {
    expect(narrowTenants(['t1'], ['*'])).toEqual(['t1']);
    expect(narrowTenants(['*'], ['*'])).toEqual(['*']);
    expect(narrowTenants(['*'], ['t2'])).toEqual(['t2']);
    expect(narrowTenants(['*', 't1'], ['t2'])).toEqual(['t2']);
  });
});
