import { MessageChannel } from 'node:worker_threads';
import { StateBroadcaster, StateFollower } from './state-mirror';

describe('StateBroadcaster / StateFollower', () => {
  it('a follower applies every change posted before its sync, in order, without an event-loop turn', () => {
    const owner = new StateBroadcaster<number>();
    const { port1, port2 } = new MessageChannel();
    const seen: number[] = [];
    const follower = new StateFollower<number>(port2, owner.generation.buffer as SharedArrayBuffer, (m) =>
      seen.push(m),
    );
    owner.add(port1, [1, 2]);
    owner.broadcast(3);
    follower.sync();
    expect(seen).toEqual([1, 2, 3]);
    follower.sync();
    expect(seen).toEqual([1, 2, 3]);
    owner.broadcast(4);
    owner.broadcast(5);
    follower.sync();
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    port1.close();
  });

  it('each follower gets its own initial state and every later broadcast; a removed one no more', () => {
    const owner = new StateBroadcaster<string>();
    const a = new MessageChannel();
    const b = new MessageChannel();
    const gotA: string[] = [];
    const gotB: string[] = [];
    const gen = owner.generation.buffer as SharedArrayBuffer;
    const fa = new StateFollower<string>(a.port2, gen, (m) => gotA.push(m));
    const fb = new StateFollower<string>(b.port2, gen, (m) => gotB.push(m));
    owner.add(a.port1, ['a0']);
    owner.broadcast('x');
    owner.add(b.port1, ['b0']);
    owner.broadcast('y');
    owner.remove(a.port1);
    owner.broadcast('z');
    fa.sync();
    fb.sync();
    expect(gotA).toEqual(['a0', 'x', 'y']);
    expect(gotB).toEqual(['b0', 'y', 'z']);
    a.port1.close();
    b.port1.close();
  });
});
