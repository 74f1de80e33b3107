import { registerDecorator, ValidationArguments } from 'class-validator';

/** What is wrong with a variable's value (a message that names the variable), or null. */
export type EnvProblem = (value: unknown, args: ValidationArguments) => string | null;

/**
 * A property decorator for the apps' env DTOs that fails with `problem`'s own message. Each check
 * explains itself, so that a boot that fails names the variable and says what to write instead;
 * `@Validate(SomeConstraint)` would need a class, and the check run twice, per rule for the same.
 */
export function EnvCheck(name: string, problem: EnvProblem) {
  return (target: object, property: string) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: property,
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => problem(value, args!) === null,
        defaultMessage: (args?: ValidationArguments) => problem(args!.value, args!) ?? `${property} is invalid`,
      },
    });
}
