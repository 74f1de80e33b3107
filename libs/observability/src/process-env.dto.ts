import { Transform } from 'class-transformer';
import { IsIn, IsInt, Max, Min, ValidateBy } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

// TypeScript's mixin pattern requires exactly this constructor signature.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ctor<T = object> = new (...args: any[]) => T;

/**
 * The process settings every app shares (logging, and the graceful shutdown of
 * graceful-shutdown.ts), declared once and mixed into each app's environment DTO.
 */
export function WithProcessEnv<T extends Ctor>(Base: T) {
  class ProcessEnv extends Base {
    @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    LOG_LEVEL: string = 'info';

    /**
     * After SIGTERM: readiness is false for this long before connections are closed (lets endpoints
     * update). Part of the shutdown SHUTDOWN_TIMEOUT_MS bounds, so shorter than it: otherwise every
     * shutdown is cut off as overdue (exit 1) before anything closes.
     */
    @Transform(toInt)
    @IsInt()
    @Min(0)
    @Max(60000)
    @ValidateBy({
      name: 'shorterThanShutdownTimeout',
      validator: {
        validate: (delay: unknown, args) => Number(delay) < Number((args?.object as ProcessEnv).SHUTDOWN_TIMEOUT_MS),
        defaultMessage: (args) =>
          `SHUTDOWN_DELAY_MS must be shorter than SHUTDOWN_TIMEOUT_MS (${(args?.object as ProcessEnv).SHUTDOWN_TIMEOUT_MS}), which bounds the whole shutdown`,
      },
    })
    SHUTDOWN_DELAY_MS: number = 0;

    /** Hard bound on the whole shutdown; past it the process exits 1. Keep it under terminationGracePeriodSeconds. */
    @Transform(toInt)
    @IsInt()
    @Min(1000)
    @Max(300000)
    SHUTDOWN_TIMEOUT_MS: number = 25000;
  }
  return ProcessEnv;
}
