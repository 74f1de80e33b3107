import { EnvCheck } from '@portcullis/contracts';

/** A comma list that names each value once (a repeat would be stored, and shown back, as given). */
export const DistinctList = () =>
  EnvCheck('distinctList', (value, args) => {
    if (typeof value !== 'string') return null;
    const items = value.split(',');
    return new Set(items).size === items.length
      ? null
      : `${args.property} must be a comma list of roles without admin or system, each named once`;
  });
