import { ValidatorConstraint, ValidatorConstraintInterface, ValidationArguments } from 'class-validator';
import { parseRolePermissions } from './claims';

/** ROLE_PERMISSIONS in an app's env DTO: the boot fails naming the variable and what is wrong. */
@ValidatorConstraint({ name: 'rolePermissions' })
export class RolePermissionsConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return problemOf(value) === null;
  }

  defaultMessage(args: ValidationArguments): string {
    return `ROLE_PERMISSIONS ${problemOf(args.value) ?? 'is invalid'}`;
  }
}

function problemOf(value: unknown): string | null {
  if (value !== undefined && typeof value !== 'string') return 'must be a string';
  try {
    parseRolePermissions(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
