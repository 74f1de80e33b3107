import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/**
 * Flips readiness to false as soon as shutdown begins, before anything is torn down. main.ts flips
 * it from its signal handler, before app.close(); the hook covers any other close.
 */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  stopping = false;

  beginShutdown(): void {
    this.stopping = true;
  }

  beforeApplicationShutdown(): void {
    this.beginShutdown();
  }
}
