import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Fastify's own lines about each request, one level down: at `info` a terminal
 * scrolls two lines per request and hides the warnings a person should see.
 * `--log-level debug` brings them back, with the same fields and messages.
 */
export class QuietRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }

  /** A scanner walking unknown paths is not news. */
  override routeNotFound(request: FastifyRequest): void {
    if (!this.isLogDisabled(request)) request.log.debug(`Route ${request.raw.method}:${request.url.split('?')[0]} not found`);
  }
}
