import { IsInt, IsOptional, IsString } from 'class-validator';
import { PortcullisError } from '@portcullis/contracts';
import { ValidateQueryDto } from '../auth/validate-query.dto';
import { StrictValidationPipe } from './validation.pipe';

class NeedsName {
  @IsString()
  name!: string;
}

class WithDefault {
  @IsOptional()
  @IsInt()
  limit: number = 50;
}

const query = (metatype: unknown) => ({ type: 'query' as const, metatype: metatype as never, data: undefined });

describe('StrictValidationPipe', () => {
  it('an empty query of a DTO that accepts it gives a fresh bare instance, the first time and after', async () => {
    const pipe = new StrictValidationPipe();
    const first = await pipe.transform({}, query(ValidateQueryDto));
    const second = await pipe.transform(Object.create(null), query(ValidateQueryDto));
    expect(first).toBeInstanceOf(ValidateQueryDto);
    expect(second).toBeInstanceOf(ValidateQueryDto);
    expect(second).not.toBe(first);
    expect(Object.values(second as object).filter((v) => v !== undefined)).toEqual([]);
  });

  it('still validates every non-empty input of that DTO after the empty one', async () => {
    const pipe = new StrictValidationPipe();
    await pipe.transform({}, query(ValidateQueryDto));
    await expect(pipe.transform({ tenant: '' }, query(ValidateQueryDto))).rejects.toBeInstanceOf(PortcullisError);
    await expect(pipe.transform({ nope: 'x' }, query(ValidateQueryDto))).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await pipe.transform({ roles: 'a,b' }, query(ValidateQueryDto))).toEqual(
      Object.assign(new ValidateQueryDto(), { roles: ['a', 'b'] }),
    );
  });

  it('an empty input that is invalid is refused every time (never remembered as fine)', async () => {
    const pipe = new StrictValidationPipe();
    for (let i = 0; i < 2; i++)
      await expect(pipe.transform({}, query(NeedsName))).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        details: [expect.objectContaining({ field: 'name' })],
      });
  });

  it('a DTO with defaults goes through the transform each time, keeping its defaults', async () => {
    const pipe = new StrictValidationPipe();
    for (let i = 0; i < 2; i++) expect(await pipe.transform({}, query(WithDefault))).toEqual({ limit: 50 });
  });
});

describe('StrictValidationPipe fast path', () => {
  it('is taken for an empty query once the DTO has accepted one (no class-validator run)', async () => {
    const pipe = new StrictValidationPipe();
    await pipe.transform({}, query(ValidateQueryDto));
    const inner = jest.spyOn((pipe as unknown as { inner: { transform: () => unknown } }).inner, 'transform');
    await pipe.transform({}, query(ValidateQueryDto));
    expect(inner).not.toHaveBeenCalled();
    await pipe.transform({ tenant: 't' }, query(ValidateQueryDto));
    expect(inner).toHaveBeenCalledTimes(1);
  });
});
