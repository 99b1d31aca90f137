// The puller the Models bench rows measure: loads the engine, reports that it
// is ready (so its idle RSS can be read), pulls on each {go}, reports the
// time; exits when the bench lets go of it.
import { loadHubLibrary } from '../../server/src/models/hub-api.js';
import { createModelService } from '../../server/src/models/model-service.js';

// The rows time the pull, not the first load of @huggingface/hub (a server has it loaded already).
await loadHubLibrary();

const service = createModelService({ env: process.env, hf: { token: async () => null }, owner: 'cli', progressIntervalMs: 100 });
let t0 = 0;
let cpu0 = process.cpuUsage();
service.onPull((pull) => {
  process.send!({ progress: pull.bytesDone, state: pull.state });
  if (pull.state === 'ready') {
    const cpu = process.cpuUsage(cpu0);
    process.send!({ done: true, repo: pull.repo, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, bytes: pull.bytesTotal });
  }
  if (pull.state === 'failed') process.send!({ failed: pull.error?.message }, () => process.exit(1));
});
process.on('message', (raw) => {
  const m = raw as { go: { repo: string; include?: string[] } };
  t0 = performance.now();
  cpu0 = process.cpuUsage();
  service.startPull(m.go).catch((err: Error) => process.send!({ failed: err.message }, () => process.exit(1)));
});
process.on('disconnect', () => void service.close().then(() => process.exit(0)));
process.send!({ loaded: true });
