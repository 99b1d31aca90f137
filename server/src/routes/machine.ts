import type { FastifyInstance } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { PULL_STATES } from '../../../shared/models.js';
import { eventStreams } from './event-stream.js';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const Gpu = Type.Object({
  index: Type.Integer(),
  vendor: Type.Union([Type.Literal('nvidia'), Type.Literal('amd'), Type.Literal('apple')]),
  name: Type.String(),
  memoryUsedBytes: Nullable(Type.Number()),
  memoryTotalBytes: Nullable(Type.Number()),
  unifiedMemory: Type.Boolean(),
  utilizationPercent: Nullable(Type.Number()),
  temperatureC: Nullable(Type.Number()),
  mig: Type.Boolean(),
});

const Backend = Nullable(Type.Union([Type.Literal('cuda'), Type.Literal('vulkan'), Type.Literal('metal')]));

const PullSummary = Type.Object({
  id: Type.String(),
  repo: Type.String(),
  state: Type.Union(PULL_STATES.map((state) => Type.Literal(state))),
  bytesDone: Type.Number(),
  bytesTotal: Type.Number(),
  rate: Type.Number(),
  etaSeconds: Nullable(Type.Number()),
});

export const MachineSnapshotSchema = Type.Object({
  sampledAt: Type.String(),
  host: Type.Object({
    hostname: Type.String(),
    platform: Type.String(),
    cpu: Type.Object({ model: Type.String(), cores: Type.Integer(), loadAverage: Type.Number(), utilizationPercent: Nullable(Type.Number()) }),
    memory: Type.Object({ usedBytes: Type.Number(), totalBytes: Type.Number() }),
    disk: Nullable(Type.Object({ path: Type.String(), freeBytes: Type.Number(), totalBytes: Type.Number() })),
  }),
  gpus: Type.Object({
    source: Type.Union([Type.Literal('nvidia-smi'), Type.Literal('rocm-smi'), Type.Literal('apple'), Type.Literal('none')]),
    gpus: Type.Array(Gpu),
    driverVersion: Nullable(Type.String()),
    platform: Nullable(Type.Object({ name: Type.Union([Type.Literal('CUDA'), Type.Literal('ROCm'), Type.Literal('Metal')]), version: Nullable(Type.String()) })),
    problem: Nullable(Type.String()),
    llama: Type.Object({
      state: Type.Union([Type.Literal('pending'), Type.Literal('done'), Type.Literal('failed')]),
      backend: Backend,
      devices: Type.Array(Type.String()),
      vramTotalBytes: Nullable(Type.Number()),
      message: Type.String(),
    }),
  }),
  models: Type.Object({ available: Type.Boolean(), count: Type.Integer(), sizeBytes: Type.Number(), cacheDir: Nullable(Type.String()), pulls: Type.Array(PullSummary) }),
  runtimes: Type.Object({
    available: Type.Boolean(),
    running: Type.Array(
      Type.Object({ id: Type.String(), model: Type.String(), runtime: Type.String(), state: Type.String(), memoryBytes: Nullable(Type.Number()), tokensPerSecond: Nullable(Type.Number()) }),
    ),
  }),
  connection: Type.Object({
    bind: Type.String(),
    remote: Type.Boolean(),
    authMode: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')]),
    version: Type.String(),
  }),
});

export async function machineRoutes(app: FastifyInstance): Promise<void> {
  const { machine } = app.halo;
  const openStream = eventStreams(app);

  app.get('/machine', { config: { scope: 'read' }, schema: { response: { 200: MachineSnapshotSchema } } }, async () => machine.snapshot());

  // `event: machine` carries a whole snapshot (~every 2 s); `event: pulls` the unfinished pulls in between.
  // Each event's data goes through the same compiled serializers as a JSON answer, so no field outside the schema leaves.
  app.get(
    '/machine/events',
    { config: { scope: 'read' }, schema: { response: { 200: Type.String({ description: 'text/event-stream: `machine` events (the snapshot) and `pulls` events (the unfinished pulls)' }) } } },
    (request, reply) => {
      // Typed loosely by Fastify (an object of unknown fields); the schemas above are what decide the output.
      const snapshotJson = reply.compileSerializationSchema(MachineSnapshotSchema) as (data: unknown) => string;
      const pullsJson = reply.compileSerializationSchema(Type.Array(PullSummary)) as (data: unknown) => string;
      const stream = openStream(request, reply, 'halo-forge machine stream');
      if (!stream) return;
      const unsubscribe = machine.subscribe((event) => (event.type === 'machine' ? stream.sendRaw('machine', snapshotJson(event.snapshot)) : stream.sendRaw('pulls', pullsJson(event.pulls))));
      stream.onEnd(unsubscribe);
    },
  );
}
