type Query = Record<string, string | string[] | undefined>;

/**
 * `name[]` in a query string is `name`: axios, PHP, Rails and qs (arrayFormat "brackets") write a
 * list as `roles[]=a&roles[]=b`, and such a listing was refused with 400 naming `roles[]`. Other
 * keys (`roles[0]`, `a[b]`) are left for the validator to refuse. A query without one is returned
 * as it is.
 */
export function foldBracketKeys(query: Query): Query {
  const bracketed = Object.keys(query).filter((k) => k.length > 2 && k.endsWith('[]'));
  if (!bracketed.length) return query;
  const folded: Query = Object.create(null) as Query;
  for (const [key, value] of Object.entries(query)) {
    if (!bracketed.includes(key)) folded[key] = value;
  }
  for (const key of bracketed) {
    const name = key.slice(0, -2);
    const values = [folded[name], query[key]].flat().filter((v): v is string => v !== undefined);
    folded[name] = values.length === 1 ? values[0] : values;
  }
  return folded;
}
