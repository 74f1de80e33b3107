import { UserView } from '@portcullis/contracts';
import { UserEntity } from './user.entity';

export function toUserView(u: UserEntity): UserView {
  return {
    id: u.id,
    username: u.username,
    roles: u.roles,
    tenants: u.tenants,
    enabled: u.enabled,
    source: u.source,
    passwordChangedAt: u.passwordChangedAt?.toISOString() ?? null,
    hasPassword: u.passwordHash !== null,
    lockedUntil: u.lockedUntil && u.lockedUntil.getTime() > Date.now() ? u.lockedUntil.toISOString() : null,
    createdAt: u.createdAt.toISOString(),
  };
}
