import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, localTable, progressLine, pullFailure, revisionName } from '../src/cli/models-format.js';
import { LOCAL_FIXTURE, pullFixture } from './support/model-service-double.js';

describe('what `halo-forge models` prints', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.50 KiB'],
    [50 * 1024 * 1024, '50.0 MiB'],
    [4.6 * 1024 ** 3, '4.60 GiB'],
    [700 * 1024 ** 3, '700 GiB'],
  ])('%i bytes read as %s', (bytes, words) => expect(formatBytes(bytes)).toBe(words));

  it.each([
    [0, '0s'],
    [59.4, '59s'],
    [75, '1m15s'],
    [3725, '1h02m'],
  ])('%f seconds read as %s', (seconds, words) => expect(formatDuration(seconds)).toBe(words));

  it('a progress line says bytes, share, files, rate and time left while downloading', () => {
    const pull = pullFixture({ bytesTotal: 4 * 1024 * 1024, bytesDone: 1024 * 1024, rate: 512 * 1024, etaSeconds: 6 });
    expect(progressLine(pull)).toBe('halo-test/tiny: downloading 1.00 MiB / 4.00 MiB (25%), 0/1 files, 512 KiB/s, 6s left');
    expect(progressLine({ ...pull, state: 'verifying' })).toBe('halo-test/tiny: verifying 1.00 MiB / 4.00 MiB (25%), 0/1 files');
  });

  it('a failure says the reason, its code and the action that fixes it', () => {
    const gated = pullFixture({
      state: 'failed',
      error: { code: 'model.gated', message: 'halo-test/gated is gated and this account has not accepted its license.', action: { kind: 'accept-license', label: 'Accept the license on the model page', url: 'https://huggingface.co/halo-test/gated' } },
    });
    expect(pullFailure(gated)).toBe('halo-test/gated is gated and this account has not accepted its license. (model.gated)\n  Accept the license on the model page: https://huggingface.co/halo-test/gated');
    expect(pullFailure(pullFixture({ state: 'cancelled' }))).toBe('The pull of halo-test/tiny was cancelled.');
  });

  it('a revision is named by its refs, else by a short commit', () => {
    expect(revisionName({ commit: 'a'.repeat(40), refs: ['main', 'v1'] })).toBe('main,v1');
    expect(revisionName({ commit: '0123456789abcdef'.repeat(2) + '01234567', refs: [] })).toBe('01234567');
  });

  it('the local list shows size, revisions, files and when pulled, and where the cache is', () => {
    const other = { ...LOCAL_FIXTURE.models[0]!, id: 'TheBloke/other', lastPulled: null };
    expect(localTable({ ...LOCAL_FIXTURE, models: [...LOCAL_FIXTURE.models, other] })).toBe(
      [
        'MODEL           SIZE    REVISIONS  FILES  PULLED',
        'halo-test/tiny  1000 B  main       1      2026-12-01 12:00',
        'TheBloke/other  1000 B  main       1      by another tool',
        '',
        'Cache: /tmp/hf/hub, 9.54 MiB free',
        '',
      ].join('\n'),
    );
  });
});
