/** How the backend writes its log: `pretty` plain lines for a person, `json` (pino's lines) for machines. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Turns one pino JSON line into pino-pretty's plain line: `13:02:11 WARN: message`,
 * with a request's method, path and status in front of its message at debug.
 * Synchronous, so a line is never lost when the process exits right after it.
 */
export async function prettyLines(colorize: boolean): Promise<(line: string) => string> {
  const { prettyFactory } = await import('pino-pretty');
  return prettyFactory({
    colorize,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,reqId,req,res,responseTime',
    messageFormat: '{if reqId}{reqId} {end}{if req.method}{req.method} {req.url} {end}{if res.statusCode}{res.statusCode} {end}{msg}',
    singleLine: true,
  });
}
