import { IsOptional } from 'class-validator';
import { PageCursor, PageLimit } from './fields';

/**
 * `limit` and the previous page's `cursor`, as every listing takes them. In a `.dto.ts` file so
 * the OpenAPI plugin documents them on every listing that extends it.
 */
export class PageQueryDto {
  @IsOptional()
  @PageLimit()
  limit?: number;

  @IsOptional()
  @PageCursor()
  cursor?: string;
}
