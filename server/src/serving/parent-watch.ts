/**
 * Parent death, from the child's side: a runtime must not outlive the
 * backend that started it, even one killed with SIGKILL, which runs no
 * cleanup at all. The IPC channel closes the moment the parent's process is
 * gone (the kernel closes its end), so 'disconnect' fires at once; a change
 * of `process.ppid` (reparented to init or a subreaper) is the fallback for
 * a child started without a channel. Same technique as `serve.ts` uses
 * under the desktop app.
 *
 * Inside the desktop app a child is a utility process of the main process,
 * with `process.parentPort` instead of a Node IPC channel: the main process
 * stops it when the backend that asked for it goes (electron/child-relay.ts),
 * and Chromium ends it when the main process itself goes.
 */
export function watchParent(onGone: () => void, pollMs = 500): void {
  let gone = false;
  const fire = () => {
    if (gone) return;
    gone = true;
    onGone();
  };
  if (process.send) process.once('disconnect', fire);
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) fire();
  }, pollMs).unref();
}

interface ParentPort {
  postMessage(message: unknown): void;
}

/** How long a utility process gives its last message to leave before it exits (parentPort has no callback). */
const PORT_FLUSH_MS = 200;

/**
 * Sends a message to whoever started this process (a Node IPC channel, or a utility process's
 * parentPort), then calls `sent`; with neither, calls it at once.
 */
export function tellParent(message: unknown, sent: () => void): void {
  const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (port) {
    port.postMessage(message);
    setTimeout(sent, PORT_FLUSH_MS);
  } else if (process.send && process.connected) {
    process.send(message, () => sent());
  } else {
    sent();
  }
}
