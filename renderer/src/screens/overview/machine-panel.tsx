import type { ReactElement } from 'react';
import type { HostFacts } from '../../../../shared/machine';
import { formatBytes, percent } from './format';
import { Meter } from './meter';
import { Panel } from './panel';

export function MachinePanel({ host }: { host: HostFacts | null }): ReactElement {
  if (!host) {
    return (
      <Panel wide icon="monitor" title="This machine" testId="overview-machine">
        <p className="stat__detail">Reading the workstation…</p>
      </Panel>
    );
  }
  const { cpu, memory, disk } = host;
  const cpuText = `${cpu.utilizationPercent === null ? '—' : `${Math.round(cpu.utilizationPercent)}%`} · load ${cpu.loadAverage.toFixed(2)}`;
  return (
    <Panel wide icon="monitor" title="This machine" testId="overview-machine">
      <p className="panel__line">
        <span className="panel__strong" data-testid="overview-cpu">
          {cpu.model}
        </span>{' '}
        <span className="panel__muted">
          · {cpu.cores} {cpu.cores === 1 ? 'core' : 'cores'} · {host.hostname}
        </span>
      </p>
      <Meter label="CPU" value={cpu.utilizationPercent} text={cpuText} testId="overview-cpu-meter" />
      <Meter label="Memory" value={percent(memory.usedBytes, memory.totalBytes)} text={`${formatBytes(memory.usedBytes)} of ${formatBytes(memory.totalBytes)}`} testId="overview-memory" />
      {disk ? (
        <Meter label="Model disk" value={percent(disk.totalBytes - disk.freeBytes, disk.totalBytes)} text={`${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.totalBytes)}`} testId="overview-disk" />
      ) : (
        <p className="stat__detail">The disk of the model cache could not be read.</p>
      )}
      {disk ? (
        <p className="stat__detail panel__path" title={disk.path}>
          Model cache: <code>{disk.path}</code>
        </p>
      ) : null}
    </Panel>
  );
}
