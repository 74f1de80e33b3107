/** One request of a load run: when it was sent, when it settled, and how. */
export interface Outcome {
  started: number;
  ended: number;
  /** `ok`, an HTTP status that was not the expected one, or the error that settled it. */
  result: string;
}

/**
 * Closed-loop load: `concurrency` loops each send one request, wait for it to settle, and send the
 * next, until stopped. `call` resolves to 'ok' or a short description of what went wrong, and may
 * throw (a refused connection, a timeout); every request is recorded with its timing.
 */
export class Load {
  readonly outcomes: Outcome[] = [];
  private running = true;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly call: (i: number) => Promise<string>,
    concurrency: number,
  ) {
    for (let i = 0; i < concurrency; i++) this.loops.push(this.loop(i));
  }

  private async loop(i: number): Promise<void> {
    while (this.running) {
      const started = Date.now();
      let result: string;
      try {
        result = await this.call(i);
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        result = `${e.name}: ${e.cause?.code ?? e.message}`;
      }
      this.outcomes.push({ started, ended: Date.now(), result });
    }
  }

  async stop(): Promise<Outcome[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.outcomes;
  }

  failures(filter: (o: Outcome) => boolean = () => true): Outcome[] {
    return this.outcomes.filter((o) => filter(o) && o.result !== 'ok');
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The epoch-ms `time` of the first JSON log line whose msg contains `text`, if any. */
export function logTime(logs: string, text: string): number | undefined {
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{') || !line.includes(text)) continue;
    try {
      const entry = JSON.parse(line) as { time?: number; msg?: string };
      if (entry.msg?.includes(text)) return entry.time;
    } catch {
      /* not a log line */
    }
  }
  return undefined;
}
