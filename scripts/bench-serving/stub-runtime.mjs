#!/usr/bin/env node
// A stub upstream for the non-streaming proxy rows: llama-server's flags, its
// key from LLAMA_API_KEY, /health, /v1/models, and a fixed chat completion.
// Two ways to answer, set in the environment the backend passes on:
//   HALO_STUB_SERVICE_MS=0 (default): at once, so what is measured is the
//     proxy's own ceiling, not a model;
//   HALO_STUB_SERVICE_MS=N with LLAMA_ARG_N_PARALLEL=S (llama-server's own
//     variable for --parallel): S slots, each answering one request in N ms
//     without using the CPU (a model on a GPU); a request that finds every slot
//     busy waits for one, first come first served, as in llama-server.
import { createServer } from 'node:http';

const argv = process.argv.slice(2);
const flag = (name) => argv[argv.indexOf(name) + 1];
const model = flag('--alias');
const key = process.env.LLAMA_API_KEY;
const serviceMs = Number(process.env.HALO_STUB_SERVICE_MS ?? 0);
const slots = Number(process.env.LLAMA_ARG_N_PARALLEL ?? 1);
const answer = JSON.stringify({
  id: 'chatcmpl-stub',
  object: 'chat.completion',
  created: 0,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello hello' }, logprobs: null, finish_reason: 'length' }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
});
const send = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

let busy = 0;
const waiting = [];
function serve(res) {
  busy++;
  setTimeout(() => {
    send(res, 200, answer);
    busy--;
    if (waiting.length) serve(waiting.shift());
  }, serviceMs);
}

/** Profiling aid (HALO_STUB_STREAM_MS=N): a streamed answer, one token event every N ms, as a model at 1000/N tokens/s. */
function stream(res, tokens) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id: 'chatcmpl-stub', object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  res.write(chunk({ role: 'assistant', content: '' }));
  let sent = 0;
  const timer = setInterval(() => {
    if (sent++ < tokens) return void res.write(chunk({ content: ' hello' }));
    clearInterval(timer);
    res.end(`${chunk({}, 'length')}data: [DONE]\n\n`);
  }, Number(process.env.HALO_STUB_STREAM_MS));
  res.on('close', () => clearInterval(timer));
}

createServer((req, res) => {
  if (req.url === '/health') return send(res, 200, '{"status":"ok"}');
  if (req.headers.authorization !== `Bearer ${key}`) return send(res, 401, '{"error":{"message":"Invalid API Key","type":"authentication_error","param":null,"code":"invalid_api_key"}}');
  if (req.url === '/v1/models') return send(res, 200, JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'stub' }] }));
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    if (process.env.HALO_STUB_STREAM_MS && JSON.parse(body).stream) return stream(res, JSON.parse(body).max_tokens ?? 16);
    if (serviceMs <= 0) return send(res, 200, answer);
    if (busy < slots) serve(res);
    else waiting.push(res);
  });
}).listen(Number(flag('--port')), flag('--host'));
process.on('SIGTERM', () => process.exit(0));
