import type { ReactElement } from 'react';
import { NO_GPU_MESSAGE, type GpuFact, type GpuReport } from '../../../../shared/machine';
import { formatBytes, percent } from './format';
import { Meter } from './meter';
import { Panel } from './panel';

function GpuRow({ gpu }: { gpu: GpuFact }): ReactElement {
  const used = gpu.memoryUsedBytes;
  const total = gpu.memoryTotalBytes;
  const memoryLabel = gpu.unifiedMemory ? 'Unified memory' : 'VRAM';
  const memoryText = used !== null && total !== null ? `${formatBytes(used)} of ${formatBytes(total)}` : total !== null ? `${formatBytes(total)}` : 'not reported';
  const facts = [
    gpu.utilizationPercent !== null ? `${Math.round(gpu.utilizationPercent)}% busy` : gpu.mig ? 'MIG on: use is per instance' : null,
    gpu.temperatureC !== null ? `${Math.round(gpu.temperatureC)} °C` : null,
  ].filter(Boolean);
  return (
    <li className="gpu" data-testid="overview-gpu">
      <div className="gpu__head">
        <span className="gpu__name">{gpu.name}</span>
        {facts.length ? <span className="gpu__facts">{facts.join(' · ')}</span> : null}
      </div>
      <Meter label={memoryLabel} value={used !== null && total !== null ? percent(used, total) : null} text={memoryText} />
    </li>
  );
}

export function GpuPanel({ report }: { report: GpuReport | null }): ReactElement {
  if (!report) {
    return (
      <Panel wide icon="activity" title="GPUs" testId="overview-gpus">
        <p className="stat__detail">Reading the workstation…</p>
      </Panel>
    );
  }
  const versions = [report.driverVersion ? `Driver ${report.driverVersion}` : null, report.platform ? `${report.platform.name}${report.platform.version ? ` ${report.platform.version}` : ''}` : null].filter(Boolean);
  return (
    <Panel wide icon="activity" title={report.gpus.length > 1 ? `GPUs (${report.gpus.length})` : 'GPU'} testId="overview-gpus">
      {report.gpus.length === 0 ? (
        <p className="stat__big" data-testid="overview-no-gpu">
          {NO_GPU_MESSAGE}
        </p>
      ) : (
        <ul className="gpu-list">
          {report.gpus.map((gpu) => (
            <GpuRow key={`${gpu.vendor}-${gpu.index}`} gpu={gpu} />
          ))}
        </ul>
      )}
      {versions.length ? <p className="stat__detail">{versions.join(' · ')}</p> : null}
      {report.problem ? <p className="stat__detail panel__warn">{report.problem}</p> : null}
      <p className="stat__detail" data-testid="overview-llama">
        {report.llama.state === 'done' ? report.llama.message : report.llama.state === 'pending' ? 'Checking what node-llama-cpp finds…' : report.llama.message}
      </p>
    </Panel>
  );
}
