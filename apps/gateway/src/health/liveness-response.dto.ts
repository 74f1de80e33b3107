import { ApiProperty } from '@nestjs/swagger';

/** `GET /health/live`: the process answers. Not terminus' shape (readiness is), as nothing is checked. */
export class LivenessDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
}
