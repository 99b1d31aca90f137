import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AuthSession, Health } from '../../../shared/api.js';
import { version } from '../version.js';
import { isLoopbackAddress, localPass } from '../auth/local-pass.js';

const Scope = Type.Union([Type.Literal('admin'), Type.Literal('operate'), Type.Literal('read'), Type.Literal('inference')]);

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', { schema: { response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String() }) } } }, async (): Promise<Health> => ({ status: 'ok', version }));

  // The one route a remote client may call without credentials: it lets a
  // dashboard tell "token needed" from "server down", and reveals nothing else.
  app.get(
    '/auth/session',
    {
      config: { public: true },
      schema: {
        response: {
          200: Type.Object({
            local: Type.Boolean(),
            authRequired: Type.Boolean(),
            token: Type.Union([Type.Object({ name: Type.String(), scope: Scope }), Type.Null()]),
            proxied: Type.Boolean(),
          }),
        },
      },
    },
    async (request): Promise<AuthSession> => {
      const { caller } = request;
      const local = localPass({ peer: request.socket.remoteAddress, headers: request.headers, trustedProxies: app.halo.trustedProxies, httpVersion: request.raw.httpVersion }).local;
      const mode = app.halo.mode;
      return {
        local,
        authRequired: mode === 'on' || (mode === 'auto' && !local),
        token: caller.kind === 'token' ? { name: caller.name, scope: caller.scope } : null,
        // The socket is this machine's own, yet the caller is not a local user: something on this machine relayed it.
        proxied: !local && isLoopbackAddress(request.socket.remoteAddress),
      };
    },
  );
}
