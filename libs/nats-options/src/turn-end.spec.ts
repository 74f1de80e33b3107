import { atTurnEnd } from './turn-end';

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('atTurnEnd', () => {
  it('runs nothing now; runs everything queued in this turn, in order, once the turn is over', async () => {
    const ran: string[] = [];
    atTurnEnd(() => ran.push('a'));
    await Promise.resolve(); // microtasks of the same turn still come first
    atTurnEnd(() => ran.push('b'));
    expect(ran).toEqual([]);
    await nextTurn();
    expect(ran).toEqual(['a', 'b']);
  });

  it('work queued while the queue runs waits for the next turn', async () => {
    const ran: string[] = [];
    atTurnEnd(() => {
      ran.push('first');
      atTurnEnd(() => ran.push('queued by first'));
    });
    await nextTurn();
    expect(ran).toEqual(['first']);
    await nextTurn();
    expect(ran).toEqual(['first', 'queued by first']);
  });

  it('one callback that throws does not keep the others from running, and its error still surfaces', () => {
    jest.useFakeTimers();
    try {
      const ran: string[] = [];
      atTurnEnd(() => {
        throw new Error('boom');
      });
      atTurnEnd(() => ran.push('after'));
      expect(() => jest.runOnlyPendingTimers()).toThrow('boom');
      expect(ran).toEqual(['after']);
    } finally {
      jest.useRealTimers();
    }
  });
});
