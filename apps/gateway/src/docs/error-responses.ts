import type { OpenAPIObject } from '@nestjs/swagger';

type Operation = {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in?: string }>;
  requestBody?: unknown;
  responses: Record<string, unknown>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const ENVELOPE = { $ref: '#/components/schemas/ErrorEnvelope' };
const OAUTH_ERROR = { $ref: '#/components/schemas/OAuthError' };

/**
 * Documents the error answers every operation can give, from what the route table already says:
 * input (body or parameters) → 400; a bearer → 401 and 403; a path parameter → 404; anything that
 * asks auth-core → 503. The native API answers them in the SPEC §4 envelope, /oauth/* in RFC 6749
 * form. The access-control and fuzzing suites (test/security) read this to know what to expect.
 */
export function documentErrorResponses(doc: OpenAPIObject): OpenAPIObject {
  doc.components ??= {};
  doc.components.schemas ??= {};
  doc.components.schemas.ErrorEnvelope = {
    type: 'object',
    required: ['statusCode', 'status', 'message', 'error'],
    properties: {
      statusCode: { type: 'number', example: 401 },
      status: { type: 'string', example: 'UNAUTHENTICATED' },
      message: { type: 'string' },
      error: {
        type: 'object',
        properties: {
          errorKey: { type: 'string' },
          message: { type: 'string' },
          data: { type: 'object', nullable: true, description: '`{fields: [{field, errors}]}` for a 400' },
        },
      },
    },
  };
  doc.components.schemas.OAuthError = {
    type: 'object',
    required: ['error'],
    properties: {
      error: { type: 'string', example: 'invalid_grant', description: 'An RFC 6749 §5.2 error code' },
      error_description: { type: 'string' },
    },
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    const native = path.startsWith('/api/');
    const oauth = path.startsWith('/oauth/');
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (!op) continue;
      const body = (description: string) =>
        native
          ? { description, content: { 'application/json': { schema: ENVELOPE } } }
          : oauth
            ? {
                description: `${description} (RFC 6749 error)`,
                content: { 'application/json': { schema: OAUTH_ERROR } },
              }
            : { description };
      const add = (code: string, description: string) => {
        op.responses[code] ??= body(description);
      };
      // Errors a controller declared itself (DocumentedErrors) get the surface's error body.
      for (const [code, declared] of Object.entries(op.responses) as Array<[string, { description?: string }]>)
        if (/^[45]\d\d$/.test(code) && !('content' in declared)) op.responses[code] = body(declared.description ?? '');
      const params = op.parameters ?? [];
      if (op.requestBody || params.length) add('400', 'Bad input: every bad or unknown field is named');
      if (op.security?.some((s) => 'bearer' in s)) {
        add('401', 'Missing, malformed, expired or revoked bearer token, or its owner is disabled');
        add('403', "The caller's token lacks a permission, role or tenant this operation needs");
      }
      // Every /oauth/* operation authenticates a client (RFC 6749 §2.3, RFC 7662 §2.1, RFC 7009 §2.1).
      if (oauth) add('401', 'Client authentication failed: invalid_client');
      if (params.some((p) => p.in === 'path')) add('404', 'No such resource, or not visible to the caller');
      if (native || oauth) add('503', 'auth-core (or its database, for operations that need it) is unavailable');
    }
  }
  return doc;
}
