import { normalizeUsername } from './username-key';

describe('normalizeUsername', () => {
  it('folds the case of ASCII letters only', () => {
    expect(normalizeUsername('Alice.B@Example-1')).toBe('alice.b@example-1');
  });

  it.each([
    ['the Kelvin sign', '\u212Aate'],
    ['a dotted capital I', '\u0130nes'],
    ['fullwidth letters', '\uFF41\uFF44\uFF4D\uFF49\uFF4E'],
    ['the Angstrom sign', '\u212Bke'],
  ])('never turns %s into an ASCII name', (_label, name) => {
    expect(normalizeUsername(name)).not.toMatch(/^[a-z0-9._@-]+$/);
  });

  it('keeps a federated name’s other letters as sent, in one Unicode form', () => {
    expect(normalizeUsername('okta:\u00C4bc')).toBe('okta:\u00C4bc');
    expect(normalizeUsername('okta:A\u0308bc')).toBe('okta:\u00C4bc');
  });
});
