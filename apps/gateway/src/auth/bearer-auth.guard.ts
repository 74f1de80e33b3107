import { Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { PortcullisError } from '@portcullis/contracts';

@Injectable()
export class BearerAuthGuard extends AuthGuard('bearer') {
  handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    if (!user) throw new PortcullisError('UNAUTHENTICATED', 'Missing or malformed bearer token');
    return user;
  }
}
