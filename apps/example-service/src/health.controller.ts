import { Controller, Get, Injectable, ServiceUnavailableException } from '@nestjs/common';

/** Readiness turns false first on SIGTERM, before the server stops accepting. */
@Injectable()
export class ReadinessState {
  stopping = false;

  stop(): void {
    this.stopping = true;
  }
}

@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessState) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Ready once the SDK has connected (its module factory is awaited before the app listens). */
  @Get('ready')
  ready() {
    if (this.readiness.stopping) throw new ServiceUnavailableException({ status: 'stopping' });
    return { status: 'ok' };
  }
}
