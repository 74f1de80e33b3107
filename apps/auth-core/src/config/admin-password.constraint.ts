import { ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { passwordWeakness } from '../users/password-policy';

/** ADMIN_PASSWORD passes the rule the API applies to every password, or auth-core does not start. */
@ValidatorConstraint({ name: 'adminPassword' })
export class AdminPasswordConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value !== 'string' || passwordWeakness(value) === null;
  }

  defaultMessage(args: ValidationArguments): string {
    // The reason only, never the value.
    return `ADMIN_PASSWORD ${passwordWeakness(String(args.value)) ?? 'is too weak'}`;
  }
}
