import pino from 'pino';
import { installGracefulShutdown } from './graceful-shutdown';

const logger = pino({ level: 'silent' });
const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Each test uses its own signal so handlers of earlier tests never fire again. */
function setup(signal: NodeJS.Signals, close: () => Promise<void>, delayMs = 0, timeoutMs = 1000) {
  const events: string[] = [];
  const exited = new Promise<number>((resolve) =>
    installGracefulShutdown({
      logger,
      onSignal: () => events.push('unready'),
      close: async () => {
        events.push('close');
        await close();
        events.push('closed');
      },
      delayMs,
      timeoutMs,
      signals: [signal],
      exit: (code) => {
        events.push(`exit ${code}`);
        resolve(code);
      },
    }),
  );
  return { events, exited, fire: () => process.emit(signal, signal) };
}

describe('installGracefulShutdown', () => {
  afterEach(() => {
    for (const s of ['SIGUSR2', 'SIGHUP', 'SIGWINCH', 'SIGCONT'] as const) process.removeAllListeners(s);
  });

  it('turns unready first, waits the delay, closes, and exits 0', async () => {
    const { events, exited, fire } = setup('SIGUSR2', () => tick(20), 150);
    const start = Date.now();
    fire();
    expect(events).toEqual(['unready']);
    await tick(100);
    expect(events).toEqual(['unready']); // still serving during the delay
    expect(await exited).toBe(0);
    expect(Date.now() - start).toBeGreaterThanOrEqual(150);
    expect(events).toEqual(['unready', 'close', 'closed', 'exit 0']);
  });

  it('exits 1 when closing fails', async () => {
    const { events, exited, fire } = setup('SIGHUP', () => Promise.reject(new Error('pool stuck')));
    fire();
    expect(await exited).toBe(1);
    expect(events).toEqual(['unready', 'close', 'exit 1']);
  });

  it('exits 1 when closing overruns the timeout', async () => {
    const { events, exited, fire } = setup('SIGWINCH', () => new Promise(() => undefined), 0, 100);
    const start = Date.now();
    fire();
    expect(await exited).toBe(1);
    expect(Date.now() - start).toBeLessThan(1000);
    expect(events).toEqual(['unready', 'close', 'exit 1']);
  });

  it('ignores a second signal while shutting down', async () => {
    let closes = 0;
    const { exited, fire } = setup('SIGCONT', async () => {
      closes++;
      await tick(50);
    });
    fire();
    fire();
    expect(await exited).toBe(0);
    expect(closes).toBe(1);
  });
});
