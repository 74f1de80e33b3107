import { MasterKey } from './master-key';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('MasterKey', () => {
  it('encrypts under the current key, binding the associated data', () => {
    const mk = new MasterKey(A);
    const blob = mk.encrypt(Buffer.from('secret'), 'kid-1');
    expect(mk.decrypt(blob, 'kid-1').toString()).toBe('secret');
    expect(() => mk.decrypt(blob, 'kid-2')).toThrow();
  });

  it('opens what a previous key stored, saying which key did', () => {
    const blob = new MasterKey(A).encrypt(Buffer.from('secret'), 'kid-1');
    const rotated = new MasterKey(B, [A]);
    expect(rotated.open(blob, 'kid-1')).toEqual({ plain: Buffer.from('secret'), index: 1 });
    expect(rotated.open(rotated.encrypt(Buffer.from('x'), 'k'), 'k').index).toBe(0);
    expect(() => new MasterKey(B).open(blob, 'kid-1')).toThrow(/none of the MASTER_KEYs/);
  });

  it('hashes secrets with the key derived from MASTER_KEY until given the stored one', () => {
    const before = new MasterKey(A).hashSecret('pcl_pat_x');
    const rotated = new MasterKey(B, [A]);
    expect(rotated.hashSecret('pcl_pat_x')).not.toEqual(before);
    rotated.useHashKey(rotated.derivedHashKey(1));
    expect(rotated.hashSecret('pcl_pat_x')).toEqual(before);
  });
});
