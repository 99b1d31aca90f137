// The fake Hub in a process of its own for the Models bench rows, so the
// puller being measured does not share its event loop with the server.
// Talks to its parent over IPC: {addRepo}, {served: [repo, path]}, {fault}.
import { startFakeHub } from '../../e2e/support/fake-hub.js';
import type { FakeFault, FakeRepoSpec } from '../../e2e/support/fake-hub-files.js';

type Message = { id: number } & ({ addRepo: FakeRepoSpec } | { served: [string, string] } | { fault: [string, string, FakeFault] } | { sha256: [string, string] });

const hub = await startFakeHub();
process.on('message', (raw) => {
  const m = raw as Message;
  let result: unknown = null;
  if ('addRepo' in m) hub.addRepo(m.addRepo);
  else if ('served' in m) result = hub.files.bytesServed(...m.served);
  else if ('fault' in m) hub.files.fault(...m.fault);
  else if ('sha256' in m) result = hub.files.file(...m.sha256).sha256;
  process.send!({ id: m.id, result });
});
process.on('disconnect', () => void hub.close().then(() => process.exit(0)));
process.send!({ id: 0, result: hub.url });
