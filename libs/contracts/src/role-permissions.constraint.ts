import { parseRolePermissions } from './claims';
import { EnvCheck } from './env-check.decorator';

/** ROLE_PERMISSIONS in an app's env DTO: the boot fails naming the variable and what is wrong. */
export const RolePermissions = () =>
  EnvCheck('rolePermissions', (value) => {
    if (value !== undefined && typeof value !== 'string') return 'ROLE_PERMISSIONS must be a string';
    try {
      parseRolePermissions(value);
      return null;
    } catch (err) {
      return `ROLE_PERMISSIONS ${(err as Error).message}`;
    }
  });
