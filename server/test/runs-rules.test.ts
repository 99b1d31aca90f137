import { describe, expect, it } from 'vitest';
import { parseMetricsFileLine, parseOutputLine, parsePythonDict } from '../src/runs/metric-lines.js';
import { commandProblem, envProblems, nameProblem } from '../src/runs/run-input.js';
import { defaultName, newRunId } from '../src/runs/run-manager.js';
import { processStartTicks, sameProcessAlive } from '../src/runs/process-group.js';
import { registerSecret } from '../src/secrets/redact.js';

describe('metric lines from a job’s output', () => {
  it.each([
    ['a Trainer log dict (Python literal syntax)', "{'loss': 2.31, 'learning_rate': 5e-05, 'epoch': 0.1}", { source: 'trainer', reading: { step: null, epoch: 0.1, values: { loss: 2.31, learning_rate: 5e-5 } } }],
    ['a Trainer dict after a progress bar’s carriage return', "  3%|▎   | 10/300 [00:01<00:30]\r{'loss': 1.5, 'grad_norm': 0.8, 'epoch': 0.03}", { source: 'trainer', reading: { step: null, epoch: 0.03, values: { loss: 1.5, grad_norm: 0.8 } } }],
    ['the end-of-training summary', "{'train_runtime': 12.5, 'train_samples_per_second': 40.1, 'train_loss': 2.0, 'epoch': 1.0}", { source: 'trainer', reading: { step: null, epoch: 1, values: { train_runtime: 12.5, train_samples_per_second: 40.1, train_loss: 2 } } }],
    ['numpy 2 and torch scalars', "{'eval_loss': np.float64(0.75), 'acc': tensor(0.5), 'epoch': 2.0}", { source: 'trainer', reading: { step: null, epoch: 2, values: { eval_loss: 0.75, acc: 0.5 } } }],
    ['nan, inf, strings, booleans and None are not plotted', "{'loss': nan, 'lr': inf, 'name': 'x', 'ok': True, 'z': None, 'epoch': 1}", { source: 'trainer', reading: { step: null, epoch: 1, values: {} } }],
    ['double-quoted keys, a trailing comma, nested values', '{"loss": 1.0, "sizes": [1, (2, 3)], "cfg": {\'a\': 1}, \'step\': 7,}', { source: 'trainer', reading: { step: 7, epoch: null, values: { loss: 1 } } }],
    ['a JSON line with a step', '{"step": 10, "loss": 0.5, "note": "fine"}', { source: 'stdout', reading: { step: 10, epoch: null, values: { loss: 0.5 } } }],
    ['a JSON line with global_step', '{"global_step": 3, "loss": 0.5}', { source: 'stdout', reading: { step: 3, epoch: null, values: { loss: 0.5 } } }],
  ])('reads %s', (_what, line, expected) => {
    expect(parseOutputLine(line)).toEqual(expected);
  });

  it.each([
    ['a JSON object without step or epoch (a config dump)', '{"lr": 0.001, "batch": 32}'],
    ['a dict without step or epoch', "{'lr': 0.001, 'batch': 32}"],
    ['a dict cut short', "{'loss': 2.31, 'epoch'"],
    ['an unterminated string', "{'loss: 2.31, 'epoch': 1}"],
    ['a call with code in it', "{'loss': __import__('os').system('x'), 'epoch': 1}"],
    ['plain text', 'Epoch 1: loss=2.3'],
    ['a JSON array', '[1, 2, 3]'],
    ['text after the dict', "{'loss': 1, 'epoch': 1} and more"],
    ['nesting past the limit', `{'epoch': 1, 'x': ${'['.repeat(40)}${']'.repeat(40)}}`],
  ])('skips %s', (_what, line) => {
    expect(parseOutputLine(line)).toBeNull();
  });

  it.each([
    ['any object with a number', '{"accuracy": 0.9}', { step: null, epoch: null, values: { accuracy: 0.9 } }],
    ['step and epoch', '{"step": 1, "epoch": 0.5, "loss": 2}', { step: 1, epoch: 0.5, values: { loss: 2 } }],
    ['no numbers at all', '{"stage": "eval"}', null],
    ['not JSON', "{'loss': 1}", null],
    ['an empty line', '  ', null],
    ['a prototype key', '{"__proto__": 1, "loss": 2}', { step: null, epoch: null, values: { loss: 2 } }],
  ])('metrics.jsonl: %s', (_what, line, expected) => {
    expect(parseMetricsFileLine(line)).toEqual(expected);
  });

  it('parses Python dicts without eval: quotes, escapes and negative exponents', () => {
    expect(parsePythonDict("{'it\\'s': -1.5e-3, \"b\": 'x\\n'}")).toEqual({ "it's": -0.0015, b: 'x\n' });
  });
});

describe('what a run may be asked to do', () => {
  const HF = 'hf_RulesCanaryToken0123456789abcdefghij';
  const UNSHAPED = 'NotAnHfShapeButRegistered-0123456789';
  registerSecret(UNSHAPED);

  it.each([
    ['an empty command', [], /empty/],
    ['an empty program', [''], /empty/],
    ['an hf_ token in an argument', ['python', 'train.py', `--token=${HF}`], /Argument 2 holds what looks like a token/],
    ['an hfk_ token as the program', [`hfk_${'a'.repeat(30)}`], /The program holds what looks like a token/],
    ['a registered secret of any shape', ['python', UNSHAPED], /Argument 1 holds/],
    ['a NUL', ['python', 'a\0b'], /NUL/],
    ['an ordinary command', ['accelerate', 'launch', 'train.py', '--lr', '5e-5'], null],
  ])('command: %s', (_what, command, expected) => {
    const problem = commandProblem(command);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
    if (problem) expect(problem).not.toContain(HF);
  });

  it.each([
    ['HF_TOKEN with another value', { HF_TOKEN: HF }, ['HF_TOKEN cannot be set here']],
    ['the legacy token variable', { HUGGING_FACE_HUB_TOKEN: 'x' }, ['HUGGING_FACE_HUB_TOKEN cannot be set here']],
    ['a name starting with a digit', { '1X': 'a' }, ['"1X" is not a valid environment variable name']],
    ['a name with a dash', { 'MY-VAR': 'a' }, ['"MY-VAR" is not a valid']],
    ['an empty name', { '': 'a' }, ['"" is not a valid']],
    ['the run folder', { HALOFORGE_RUN_DIR: '/tmp' }, ['HALOFORGE_RUN_DIR is set by Halo Forge']],
    ['another Halo Forge variable', { HALOFORGE_API_TOKEN: 'x' }, ['HALOFORGE_API_TOKEN is set by Halo Forge']],
    ['the hub cache', { HF_HUB_CACHE: '/x' }, ['HF_HUB_CACHE is set by Halo Forge']],
    ['a token as a value', { WANDB_KEY: HF }, ['The value of WANDB_KEY looks like a token']],
    ['several problems, each named', { '9': 'a', HF_TOKEN: 'b', OK: 'c' }, ['"9" is not a valid', 'HF_TOKEN cannot be set here']],
    ['ordinary variables', { CUDA_VISIBLE_DEVICES: '0', WANDB_MODE: 'offline', _X: '' }, []],
  ])('env: %s', (_what, env, expected) => {
    const problems = envProblems(env as Record<string, string>);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((text, i) => expect(problems[i]).toContain(text));
    expect(problems.join(' ')).not.toContain(HF);
  });

  it.each([
    ['llama-sft', true],
    ['run.2', true],
    ['-flag', false],
    ['has space', false],
    ['x'.repeat(65), false],
    ['', false],
  ])('name %j valid: %s', (name, ok) => {
    expect(nameProblem(name) === null).toBe(ok);
  });

  it.each([
    ['/usr/bin/python3.11', 'python3.11'],
    ['accelerate', 'accelerate'],
    ['/opt/my tool', 'my_tool'],
    ['___', 'run'],
  ])('default name of %s is %s', (program, name) => {
    expect(defaultName(program)).toBe(name);
  });

  it('run ids sort by time and are file-safe', () => {
    expect(newRunId(new Date('2026-12-01T13:05:09.123Z'))).toMatch(/^20261201-130509-[0-9a-f]{6}$/);
  });
});

describe('process identity', () => {
  it('a recorded pid with another start time is not the same process', () => {
    const ticks = processStartTicks(process.pid);
    if (process.platform === 'linux') expect(ticks).toMatch(/^\d+$/);
    expect(sameProcessAlive(process.pid, ticks)).toBe(true);
    if (process.platform === 'linux') expect(sameProcessAlive(process.pid, '1')).toBe(false);
    expect(sameProcessAlive(2 ** 22 + 7, null)).toBe(false);
  });
});
