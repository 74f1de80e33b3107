/** Query strings arrive as strings; these make `a,b` / repeated params / `true` typed values. */
export const toList = ({ value }: { value: unknown }) =>
  value === undefined || value === null
    ? undefined
    : (Array.isArray(value) ? value : [value])
        .flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]))
        .filter((v) => v !== '');

/** `true`/`false` in any case (Python's requests and httpx write `True`), or `1`/`0`; else left for the validator. */
export const toBoolean = ({ value }: { value: unknown }) => {
  const v = typeof value === 'string' ? value.toLowerCase() : value;
  return v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : value;
};

export const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
