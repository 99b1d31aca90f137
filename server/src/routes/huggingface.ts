import type { FastifyInstance } from 'fastify';
export async function huggingfaceRoutes(_app: FastifyInstance): Promise<void> {}
