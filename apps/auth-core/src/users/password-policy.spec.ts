import { passwordWeakness } from './password-policy';

describe('passwordWeakness', () => {
  it.each([
    ['aaaaaaaaaaaa', 'fewer than 5'],
    ['abababababab', 'fewer than 5'],
    ['123456789012', 'sequence'],
    ['210987654321', 'sequence'],
    ['abcdefghijklm', 'sequence'],
    ['QWERTYUIOPQW', 'sequence'],
    ['qwertyuiopasdf', 'sequence'],
    ['Password1234', 'well-known'],
  ])('%s is weak (%s)', (password, why) => {
    expect(passwordWeakness(password)).toContain(why);
  });

  it.each(['dora-new-password-1', 'correct horse battery', 'Adm1n-x7Yq2kLm9PzR', 'kim-password-12345'])(
    '%s is accepted',
    (password) => {
      expect(passwordWeakness(password)).toBeNull();
    },
  );

  it('refuses the username itself, in any case', () => {
    expect(passwordWeakness('Margaret.Hamilton', 'margaret.hamilton')).toBe('is the username');
    expect(passwordWeakness('margaret.hamilton-1', 'margaret.hamilton')).toBeNull();
    expect(passwordWeakness('margaret.hamilton')).toBeNull();
  });
});
