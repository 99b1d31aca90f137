// The backend's process entry: bundled into dist/backend/halo-forge.mjs, which the
// `halo-forge` command and the desktop app run. One file loads far faster than the
// module graph it replaces (startup is a measured goal in npm run bench).
import { main } from './main.js';

await main();
