// `npm run dist` first: electron-builder 26 pulls @electron/rebuild 4 and node-abi 4,
// which need Node 22.12 or later. The app and its tests run on Node 20.19; only
// packaging needs the newer one, so the check is here and not in "engines".
//
//   node scripts/check-node.mjs 22.12 "packaging (npm run dist)"
const [wanted = '', purpose = 'this command'] = process.argv.slice(2);

/** True when version `have` (1.2.3, with or without "v") is at least `want` (1.2). */
function atLeast(have, want) {
  const a = have.replace(/^v/, '').split('.').map(Number);
  const b = want.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

if (!/^\d+(\.\d+)*$/.test(wanted)) {
  process.stderr.write('check-node: usage: node scripts/check-node.mjs MIN_VERSION [PURPOSE]\n');
  process.exit(2);
}
// HALOFORGE_NODE_VERSION: the version to judge instead of this one (the test's way to try both sides).
const have = process.env.HALOFORGE_NODE_VERSION ?? process.version;
if (!atLeast(have, wanted)) {
  process.stderr.write(
    `${purpose} needs Node ${wanted} or later; this is Node ${have.replace(/^v/, '')}.\n` +
      `Running the app and its tests needs only Node 20.19. Switch Node for packaging (for example "nvm use 22") and run it again.\n`,
  );
  process.exit(1);
}
