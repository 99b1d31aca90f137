// `prepare`: builds what is missing or older than its sources. A fresh `npm install`
// builds everything; `npx halo-forge`, which links this checkout into npm's npx cache
// and runs its prepare script there, finds it built and returns at once.
// (`npm run build` always builds everything.)
import { fileURLToPath } from 'node:url';
import { buildStale } from './build-steps.mjs';

if (!buildStale(fileURLToPath(new URL('..', import.meta.url)))) process.exit(1);
