import { EnvCheck } from '@portcullis/contracts';
import { passwordWeakness } from '../users/password-policy';

/** ADMIN_PASSWORD passes the rule the API applies to every password, or auth-core does not start. */
export const AdminPassword = () =>
  EnvCheck('adminPassword', (value) => {
    const weakness = typeof value === 'string' ? passwordWeakness(value) : null;
    // The reason only, never the value.
    return weakness === null ? null : `ADMIN_PASSWORD ${weakness}`;
  });
