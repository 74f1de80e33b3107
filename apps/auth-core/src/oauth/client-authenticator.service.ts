import { Injectable } from '@nestjs/common';
import { PortcullisError } from '@portcullis/contracts';
import { ClientEntity } from '../clients/client.entity';
import { ClientsRepository } from '../clients/clients.repository';
import { MasterKey } from '../keys/master-key';

const ZERO_HASH = Buffer.alloc(32);

/**
 * OAuth client authentication (client_secret_basic / client_secret_post, decoded by the
 * gateway). Unknown client, wrong secret and disabled client are one answer: invalid_client.
 */
@Injectable()
export class ClientAuthenticatorService {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly masterKey: MasterKey,
  ) {}

  async authenticate(clientId: string, secret: string): Promise<ClientEntity> {
    const client = await this.clients.find(clientId);
    // Compare even when there is no client, so the answer takes the same time.
    const matches = this.masterKey.secretMatches(secret, client?.secretHash ?? ZERO_HASH);
    if (!client || !client.secretHash || !matches || !client.enabled) {
      throw new PortcullisError('UNAUTHENTICATED', 'Client authentication failed');
    }
    return client;
  }
}
