import { Injectable } from '@nestjs/common';

/**
 * Whether `auth.v1.token.validate` is being served by this replica (its subscription, or every
 * validate worker's, is live): part of /health/ready, so no replica counts as ready while
 * validations sent to the queue group could not be answered by it.
 */
@Injectable()
export class ValidateReadiness {
  serving = false;
}
