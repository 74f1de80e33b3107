// The bench's CPU use of a phase is taken over the stretches its load generators measure, not
// over their warm-ups and drains (bench/lib/window.mjs): the per-operation costs in the report
// divide it by the measured throughput. Judged here on this process's own CPU, from /proc.
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- plain ESM without types, compiled by @swc/jest like the rest
import { MemoryWatch, watchThreads } from '../../bench/lib/procs.mjs';

const spin = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end);
};
const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CPU use over the measured stretches', () => {
  const watchSelf = () => {
    const mem = new MemoryWatch();
    mem.track('self', process.pid, false);
    return mem.begin();
  };

  it('leaves out a busy warm-up before the measured stretch', async () => {
    const watch = watchSelf();
    const threads = watchThreads(process.pid);
    spin(400);
    watch.measuredStart();
    threads.measuredStart();
    await idle(400);
    watch.measuredEnd();
    threads.measuredEnd();
    expect(watch.end().cpu.self).toBeLessThan(25);
    expect(threads.end().main.runPct).toBeLessThan(25);
  });

  it('leaves out an idle drain, and sums every measured stretch', async () => {
    const watch = watchSelf();
    const threads = watchThreads(process.pid);
    for (let i = 0; i < 2; i++) {
      watch.measuredStart();
      threads.measuredStart();
      spin(250);
      watch.measuredEnd();
      threads.measuredEnd();
      await idle(400);
    }
    expect(watch.end().cpu.self).toBeGreaterThan(75);
    expect(threads.end().main.runPct).toBeGreaterThan(75);
  });

  it('takes the whole phase when nothing was marked', async () => {
    const watch = watchSelf();
    const threads = watchThreads(process.pid);
    spin(300);
    await idle(300);
    const cpu = watch.end().cpu.self;
    expect(cpu).toBeGreaterThan(30);
    expect(cpu).toBeLessThan(75);
    expect(threads.end().main.runPct).toBeGreaterThan(30);
  });
});
