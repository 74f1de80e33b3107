import { ArgumentMetadata, Injectable, PipeTransform, ValidationPipe } from '@nestjs/common';
import {
  badRequest,
  describeValidationErrors,
  PortcullisError,
  unknownFields,
  VALIDATION_OPTIONS,
} from '@portcullis/contracts';

const PRIMITIVES: unknown[] = [String, Boolean, Number, Array, Object];

/**
 * HTTP input gets the same rules as NATS payloads: unknown fields are refused (including names
 * like `constructor` that class-transformer would silently drop), bad ones are named.
 */
@Injectable()
export class StrictValidationPipe implements PipeTransform {
  private readonly inner = new ValidationPipe({
    ...VALIDATION_OPTIONS,
    transform: true,
    exceptionFactory: (errors) => badRequest(describeValidationErrors(errors)),
  });

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const cls = metadata.metatype;
    const checkable =
      cls &&
      !PRIMITIVES.includes(cls) &&
      !!value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      metadata.type !== 'custom';
    const unknown = checkable ? unknownFields(cls as new () => object, value as object) : [];
    let result: unknown;
    try {
      result = await this.inner.transform(value, metadata);
    } catch (err) {
      if (!unknown.length || !(err instanceof PortcullisError) || err.details === null) throw err;
      // One answer naming every bad field, unknown or invalid.
      throw badRequest([...unknown, ...err.details.filter((d) => !unknown.some((u) => u.field === d.field))]);
    }
    if (unknown.length) throw badRequest(unknown);
    return result;
  }
}
