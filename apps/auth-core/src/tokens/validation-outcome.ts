import { ValidateTokenReply } from '@portcullis/contracts';
import { DISABLED_MESSAGE, REVOKED_MESSAGE, VERIFY_FAILURE_MESSAGES } from '@portcullis/jwt';

/** The `outcome` label of a validation: `valid`, or what refused it. */
export function outcomeOf(reply: ValidateTokenReply): string {
  if (reply.valid) return 'valid';
  const message = reply.error.message;
  if (message === REVOKED_MESSAGE) return 'revoked';
  if (message === DISABLED_MESSAGE) return 'disabled';
  if (message === VERIFY_FAILURE_MESSAGES.EXPIRED) return 'expired';
  return message.startsWith('Missing') || message.startsWith('Token is not valid for tenant') ? 'forbidden' : 'invalid';
}
