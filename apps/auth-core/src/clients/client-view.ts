import { randomBytes } from 'node:crypto';
import { ClientView } from '@portcullis/contracts';
import { ClientEntity } from './client.entity';

export const CLIENT_SECRET_PREFIX = 'pcl_cs_';

/** 256 bits of randomness, prefixed so secret scanners recognise it. */
export function generateClientSecret(): string {
  return CLIENT_SECRET_PREFIX + randomBytes(32).toString('base64url');
}

export function toClientView(c: ClientEntity): ClientView {
  return {
    clientId: c.clientId,
    roles: c.roles,
    tenants: c.tenants,
    enabled: c.enabled,
    description: c.description,
    maxTokenLifetime: c.maxTokenLifetime,
    createdBy: c.createdBy,
    registered: c.registered,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}
