import { runFuzz, type FuzzOptions } from './driver.js';

// The fuzz driver as a process, so it can run inside a network namespace
// (`ip netns exec NS node fuzz-driver.mjs`). Options arrive as JSON on stdin,
// not as arguments, because they hold token secrets; the summary is one JSON
// line on stdout.

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => (input += chunk));
process.stdin.on('end', () => {
  runFuzz(JSON.parse(input) as FuzzOptions).then(
    (summary) => process.stdout.write(`${JSON.stringify(summary)}\n`),
    (err: Error) => {
      process.stderr.write(`fuzz driver failed: ${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    },
  );
});
