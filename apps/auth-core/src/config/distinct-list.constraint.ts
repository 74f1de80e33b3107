import { ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';

/** A comma list that names each value once (a repeat would be stored, and shown back, as given). */
@ValidatorConstraint({ name: 'distinctList' })
export class DistinctListConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'string') return true;
    const items = value.split(',');
    return new Set(items).size === items.length;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be a comma list of roles without admin or system, each named once`;
  }
}
