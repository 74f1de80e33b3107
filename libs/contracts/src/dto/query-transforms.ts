/** Query strings arrive as strings; these make `a,b` / repeated params / `true` typed values. */
export const toList = ({ value }: { value: unknown }) =>
  value === undefined || value === null
    ? undefined
    : (Array.isArray(value) ? value : [value])
        .flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]))
        .filter((v) => v !== '');

export const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

export const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
