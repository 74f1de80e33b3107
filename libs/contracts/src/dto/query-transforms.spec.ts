import { toBoolean } from './query-transforms';

const parse = (value: unknown) => toBoolean({ value });

describe('toBoolean (query strings and boolean environment variables)', () => {
  // Python's requests and httpx write a boolean parameter as "True"/"False".
  it.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
    ['0', false],
  ])('reads %j as %j', (value, expected) => {
    expect(parse(value)).toBe(expected);
  });

  // Left as they are, so the validator refuses them and names the field.
  it.each(['yes', 'on', 'ture', 'TRUE ', ' true', '', '2'])('leaves %j for the validator to refuse', (value) => {
    expect(parse(value)).toBe(value);
  });
});
