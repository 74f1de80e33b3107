import { PortcullisError } from '@portcullis/contracts';
import { decodeCursor, encodeCursor, isBoundedText, isTimestamp, isUuid } from './keyset-cursor';

describe('keyset cursors', () => {
  const TOKEN_KEY = [isTimestamp, isUuid];
  const key = ['2025-01-02T03:04:05.678Z', '3f1b0a52-8a4c-4f57-9d1c-0d4f7a6c2b11'];

  it('give back the key they were made from', () => {
    expect(decodeCursor(encodeCursor(key), TOKEN_KEY)).toEqual(key);
    expect(decodeCursor(encodeCursor(['billing']), [isBoundedText(128)])).toEqual(['billing']);
  });

  it.each([
    ['not base64url JSON', 'garbage'],
    ['a bare string key (the old clients/users form)', Buffer.from('billing').toString('base64url')],
    ['JSON that is not an array', encodeCursor({ 0: 'x' } as unknown as string[])],
    ['too few parts', encodeCursor([key[0]])],
    ['too many parts', encodeCursor([...key, 'x'])],
    ['a part of the wrong type', Buffer.from(JSON.stringify([key[0], 42])).toString('base64url')],
    ['a part that fails its check', encodeCursor([key[0], 'not-a-uuid'])],
    ['a timestamp that is not one', encodeCursor(['yesterday', key[1]])],
    ['a timestamp only Date.parse takes', encodeCursor(['12', key[1]])],
    ['a day that does not exist', encodeCursor(['2020-02-30T00:00:00.000Z', key[1]])],
    ['a year PostgreSQL cannot hold', encodeCursor(['-010000-01-01T00:00:00Z', key[1]])],
    ['a timestamp not in the form the API writes', encodeCursor(['2025-01-02', key[1]])],
    ['an extended year', encodeCursor(['+275760-09-13T00:00:00.000Z', key[1]])],
    ['the year 0', encodeCursor(['0000-01-01T00:00:00.000Z', key[1]])],
  ])('refuse %s as a 400 naming cursor', (_label, cursor) => {
    const err = (() => {
      try {
        decodeCursor(cursor, TOKEN_KEY);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PortcullisError);
    expect(err).toMatchObject({ code: 'BAD_REQUEST', details: [{ field: 'cursor' }] });
  });

  it('bound text keys', () => {
    expect(() => decodeCursor(encodeCursor(['']), [isBoundedText(128)])).toThrow('Invalid cursor');
    expect(() => decodeCursor(encodeCursor(['x'.repeat(129)]), [isBoundedText(128)])).toThrow('Invalid cursor');
  });
});
