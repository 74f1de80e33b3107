import {
  getMetadataStorage,
  IsInt,
  IsOptional,
  IsString,
  Length,
  MetadataStorage,
  validateSync,
} from 'class-validator';
import { cacheValidationMetadata } from './validation-metadata-cache';
import { VALIDATION_OPTIONS } from './validate-payload';

class Base {
  @IsString() @Length(1, 8) name!: string;
  @IsOptional() @IsInt({ groups: ['admin'] }) level?: number;
}

class Child extends Base {
  @IsString() @Length(2, 4) name = '';
  @IsOptional() @IsString() note?: string;
}

const storage = getMetadataStorage();
/** The library's own, uncached answer (the cache patches the instance, not the prototype). */
const uncached = (target: object, always: boolean, strictGroups: boolean, groups?: string[]) =>
  MetadataStorage.prototype.getTargetValidationMetadatas.call(
    storage,
    target as new () => object,
    '',
    always,
    strictGroups,
    groups,
  );

const errorsOf = (cls: new () => object, plain: object, groups?: string[]) => {
  const o = Object.assign(new cls(), plain);
  return validateSync(o, { ...VALIDATION_OPTIONS, groups }).map((e) => [e.property, Object.keys(e.constraints ?? {})]);
};

describe('cacheValidationMetadata', () => {
  const before = {
    child: errorsOf(Child, { name: 'abcdef', note: 1, extra: 1 }),
    childAdmin: errorsOf(Child, { name: 'ab', level: 'x' }, ['admin']),
    base: errorsOf(Base, { name: 'abcdef' }),
  };

  beforeAll(() => cacheValidationMetadata());

  it('answers exactly what class-validator answers, per option set, and keeps the answer', () => {
    for (const [always, strict, groups] of [
      [false, false, undefined],
      [true, false, undefined],
      [false, true, undefined],
      [false, false, ['admin']],
    ] as const) {
      const g = groups ? [...groups] : undefined;
      const got = storage.getTargetValidationMetadatas(Child, '', always, strict, g);
      expect(got).toEqual(uncached(Child, always, strict, g));
      expect(storage.getTargetValidationMetadatas(Child, '', always, strict, g)).toBe(got);
    }
    // The options are part of the key: with strict groups and none asked, the admin rule is left out.
    const strict = storage.getTargetValidationMetadatas(Child, '', false, true, undefined);
    const admin = storage.getTargetValidationMetadatas(Child, '', false, false, ['admin']);
    expect(admin.some((m) => m.propertyName === 'level' && m.groups.includes('admin'))).toBe(true);
    expect(strict.some((m) => m.groups?.includes('admin'))).toBe(false);
  });

  it('validates as before: inherited and overridden rules, whitelist, groups', () => {
    expect(errorsOf(Child, { name: 'abcdef', note: 1, extra: 1 })).toEqual(before.child);
    expect(errorsOf(Child, { name: 'ab', level: 'x' }, ['admin'])).toEqual(before.childAdmin);
    expect(errorsOf(Base, { name: 'abcdef' })).toEqual(before.base);
    expect(before.child).toEqual([
      ['extra', ['whitelistValidation']],
      ['name', ['isLength']],
      ['note', ['isString']],
    ]);
    expect(errorsOf(Child, { name: 'abc' })).toEqual([]);
  });

  it('forgets what it kept when metadata is added later: no stale answer', () => {
    expect(errorsOf(Child, { name: 'abc', note: 'n' })).toEqual([]);
    const kept = storage.getTargetValidationMetadatas(Child, '', false, false, undefined);

    // A rule added to an already validated parent after the fact is seen by the child.
    Length(1, 1)(Base.prototype, 'note');
    expect(storage.getTargetValidationMetadatas(Child, '', false, false, undefined)).not.toBe(kept);
    expect(errorsOf(Child, { name: 'abc', note: 'n' })).toEqual([]);
    expect(errorsOf(Base, { name: 'abc', note: 'nn' })).toEqual([['note', ['isLength']]]);

    // A class defined after the first validations gets its own and inherited rules.
    class Late extends Child {
      @IsInt() count!: number;
    }
    expect(errorsOf(Late, { name: 'abc', count: 'x' })).toEqual([['count', ['isInt']]]);
    expect(errorsOf(Late, { name: 'abcdef', count: 1 })).toEqual([['name', ['isLength']]]);
    expect(storage.getTargetValidationMetadatas(Late, '', false, false, undefined)).toEqual(
      uncached(Late, false, false, undefined),
    );
  });

  it('groups any array the cache did not hand out afresh, and installs once', () => {
    const foreign = [...uncached(Child, false, false, undefined)];
    const g1 = storage.groupByPropertyName(foreign);
    expect(storage.groupByPropertyName(foreign)).not.toBe(g1);
    expect(Object.keys(g1).sort()).toEqual(['level', 'name', 'note']);

    const patched = storage.getTargetValidationMetadatas;
    cacheValidationMetadata();
    expect(storage.getTargetValidationMetadatas).toBe(patched);
  });
});
