import type { Type } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import type { Page } from '@portcullis/contracts';

/**
 * The `{items, nextCursor}` reply of a listing, for one item type. OpenAPI has no generics, so each
 * listing gets a named schema of its own: `class TokenDataPageDto extends PageOf(TokenDataDto) {}`.
 * Not a `.dto.ts` file: the plugin cannot read `T`, so the properties are described here explicitly.
 */
export function PageOf<T>(item: Type<T>) {
  abstract class PageDto implements Page<T> {
    @ApiProperty({ type: [item] })
    items!: T[];

    @ApiProperty({
      type: String,
      nullable: true,
      description: 'Pass as `cursor` for the next page; null on the last page',
    })
    nextCursor!: string | null;
  }
  return PageDto;
}
