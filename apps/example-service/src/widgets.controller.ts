import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { AuthGuard, CurrentPrincipal, Permissions, Roles, Tenant, ValidateWith } from '@portcullis/auth-client';
import type { AccessTokenClaims } from '@portcullis/contracts';
import { IsString, Length } from 'class-validator';

class CreateWidgetDto {
  @IsString() @Length(1, 100) name!: string;
}

interface Widget {
  id: number;
  name: string;
  tenant: string | null;
  createdBy: string;
}

/** The example of how a cluster service protects its routes with the Portcullis SDK. */
@Controller('widgets')
@UseGuards(AuthGuard)
export class WidgetsController {
  private readonly widgets: Widget[] = [{ id: 1, name: 'sprocket', tenant: 'acme', createdBy: 'seed' }];

  @Get()
  list(@CurrentPrincipal() who: AccessTokenClaims) {
    return { items: this.widgets, caller: { sub: who.sub, typ: who.typ } };
  }

  @Post()
  @Roles('widget-writer')
  create(@Body() body: CreateWidgetDto, @CurrentPrincipal() who: AccessTokenClaims): Widget {
    const widget = { id: this.widgets.length + 1, name: body.name, tenant: who.tenants[0] ?? null, createdBy: who.sub };
    this.widgets.push(widget);
    return widget;
  }

  @Get('audit')
  @Permissions('audit:read')
  audit() {
    return { entries: this.widgets.map((w) => ({ id: w.id, createdBy: w.createdBy })) };
  }

  @Get('tenants/:tenant')
  @Tenant('tenant')
  byTenant(@Param('tenant') tenant: string) {
    return { items: this.widgets.filter((w) => w.tenant === tenant) };
  }

  /** Asks auth-core on every call (no local verification): the remote mode of the SDK. */
  @Get('remote')
  @ValidateWith('remote')
  remote(@CurrentPrincipal() who: AccessTokenClaims) {
    return { items: this.widgets, caller: { sub: who.sub }, mode: 'remote' };
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('admin')
  remove(@Param('id') id: string): void {
    const i = this.widgets.findIndex((w) => String(w.id) === id);
    if (i >= 0) this.widgets.splice(i, 1);
  }
}
