// The backend's entry point inside the app. Electron's utilityProcess (or, in
// the tests, a Node fork) runs this file with the `serve` arguments; the
// backend then reports `ready`/`fatal` over the parent port or IPC channel.
// The CLI is found by path, not imported, so electron/ never compiles against server/.
const cli = new URL('../server/src/cli/main.js', import.meta.url).href;
const { main } = (await import(cli)) as { main(argv?: string[]): Promise<void> };
await main(process.argv);
