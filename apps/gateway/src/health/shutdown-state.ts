import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/**
 * Readiness turns false first on SIGTERM, so the load balancer stops sending before we stop.
 * main.ts flips it from its signal handler, before app.close(); the hook covers any other close.
 */
@Injectable()
export class GatewayShutdownState implements BeforeApplicationShutdown {
  stopping = false;

  beginShutdown(): void {
    this.stopping = true;
  }

  beforeApplicationShutdown(): void {
    this.beginShutdown();
  }
}
