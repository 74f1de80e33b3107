import { WithProcessEnv } from '@portcullis/observability';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import { NatsEnvDto, NatsUrlList } from '@portcullis/nats-options';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

/** The example service's environment: NATS identity/TLS like the other apps, plus the SDK mode. */
export class ExampleEnvDto extends WithProcessEnv(NatsEnvDto) {
  @NatsUrlList()
  NATS_URL: string = 'nats://127.0.0.1:4222';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3002;

  @IsIn(['local', 'remote'])
  AUTH_MODE: 'local' | 'remote' = 'local';

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(3600000)
  AUTH_STALENESS_MS: number = 30000;
}
