import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { httpError, isHaloError } from '../errors.js';
import { tellSupervisor } from '../supervisor-channel.js';
import type { ConnectionInfo, RemoteAccess, RemoteAccessRequest } from '../../../shared/api.js';

const RemoteAccessSchema = Type.Object({
  enabled: Type.Boolean(),
  fixed: Type.Boolean(),
  interface: Type.String(),
  port: Type.Integer(),
  urls: Type.Array(Type.String()),
  addresses: Type.Array(
    Type.Object({
      url: Type.String(),
      kind: Type.Union([Type.Literal('hostname'), Type.Literal('lan'), Type.Literal('vpn'), Type.Literal('container')]),
      label: Type.String(),
    }),
  ),
  needsToken: Type.Boolean(),
});

export async function connectionRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.halo;

  app.get(
    '/connection',
    {
      schema: {
        response: {
          200: Type.Object({
            bind: Type.Object({ host: Type.String(), port: Type.Integer() }),
            authMode: Type.String(),
            remote: RemoteAccessSchema,
            tokenCount: Type.Integer(),
            envToken: Type.Boolean(),
          }),
        },
      },
    },
    async (): Promise<ConnectionInfo> => ({
      bind: ctx.bind,
      authMode: ctx.mode,
      remote: ctx.exposure.state(),
      tokenCount: ctx.envToken ? 1 : ctx.store.size,
      envToken: ctx.envToken !== null,
    }),
  );

  app.put<{ Body: RemoteAccessRequest }>(
    '/connection/remote',
    {
      config: { scope: 'admin' },
      schema: {
        body: Type.Object(
          {
            enabled: Type.Boolean(),
            interface: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: RemoteAccessSchema },
      },
    },
    async (request): Promise<RemoteAccess> => {
      const { enabled, interface: iface = 'all', port = null } = request.body;
      try {
        return await ctx.exposure.set({ enabled, interface: iface, port }, async (state) => {
          await ctx.settings.update((s) => ({ ...s, remoteAccess: { enabled, interface: iface, port } }));
          // The switch is applied and saved; a full disk costs the audit line (reported, never thrown), not the answer.
          ctx.audit.append({ event: enabled ? 'remote.enabled' : 'remote.disabled', address: request.clientAddress ?? undefined, detail: state.urls.join(' ') || undefined });
          tellSupervisor({ type: 'remote-access', enabled: state.enabled, urls: state.urls });
        });
      } catch (err) {
        // The exposure went back to what it was: say which state holds now.
        if (isHaloError(err) && err.code.startsWith('storage.')) {
          throw httpError(err.statusCode, err.code, `Remote access stays ${ctx.exposure.state().enabled ? 'on' : 'off'}: ${err.message[0]!.toLowerCase()}${err.message.slice(1)}`);
        }
        throw err;
      }
    },
  );
}
