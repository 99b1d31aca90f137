/**
 * Parent death, from the child's side: a runtime must not outlive the
 * backend that started it, even one killed with SIGKILL, which runs no
 * cleanup at all. The IPC channel closes the moment the parent's process is
 * gone (the kernel closes its end), so 'disconnect' fires at once; a change
 * of `process.ppid` (reparented to init or a subreaper) is the fallback for
 * a child started without a channel. Same technique as `serve.ts` uses
 * under the desktop app.
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
