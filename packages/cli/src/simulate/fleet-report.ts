import { formatBytes, formatDuration, progressBar } from '../output/format.js';
import { formatDetails, formatTable } from '../output/table.js';
import type { FleetSnapshot } from './fleet.js';
import { type DeviceReport, SIMULATED_DEVICE_STATES } from './simulated-device.js';

/**
 * The live summary: a progress bar of finished devices (upgraded or failed) over the fleet, then the
 * count of every state. Two lines, each short enough for an 80-column terminal at 100k devices.
 */
export function formatLiveStatus(snapshot: FleetSnapshot): string[] {
  const { states, devices } = snapshot;
  const done = states.upgraded + states.failed;
  const head = `${progressBar(devices === 0 ? 0 : done / devices, 24)} ${done}/${devices} done  ${formatBytes(snapshot.bytesDownloaded)}  ${formatDuration(snapshot.elapsedMs)}`;
  const counts = SIMULATED_DEVICE_STATES.map((state) => `${state} ${states[state]}`).join('  ');
  return [head, counts];
}

/** The table printed when the run ends. */
export function formatFinalReport(
  snapshot: FleetSnapshot,
  devices: readonly DeviceReport[],
  product: { key: string; dialect: string },
): string {
  const states = formatTable(
    [
      { header: 'state', value: (row: [string, number]) => row[0] },
      { header: 'devices', value: (row: [string, number]) => row[1], align: 'right' },
    ],
    SIMULATED_DEVICE_STATES.map((state) => [state, snapshot.states[state]] as [string, number]),
  );
  const sections = [
    `simulated ${snapshot.devices} devices of product ${product.key} (${product.dialect}) for ${formatDuration(snapshot.elapsedMs)}`,
    states,
  ];
  const failed = devices.filter((d) => d.state === 'failed');
  if (failed.length) {
    const rows = Object.entries(snapshot.failures)
      .sort((a, b) => b[1] - a[1])
      .map(([code, count]) => {
        const example = failed.find((d) => d.error?.code === code);
        return { code, count, example: example ? `${example.name}: ${example.error?.message ?? ''}` : '' };
      });
    sections.push(
      formatTable(
        [
          { header: 'failure', value: (r) => r.code },
          { header: 'devices', value: (r) => r.count, align: 'right' },
          { header: 'example', value: (r) => r.example },
        ],
        rows,
      ),
    );
  }
  const { faults } = snapshot;
  sections.push(
    formatDetails([
      ['devices with a task', snapshot.devicesWithTask],
      ['updates succeeded', snapshot.updatesSucceeded],
      ['updates failed', snapshot.updatesFailed],
      ['downloaded', formatBytes(snapshot.bytesDownloaded)],
      ['resumed downloads', snapshot.resumedDownloads],
      ['peak downloading', snapshot.peakDownloading],
      [
        'faults dealt',
        `fail-download ${faults.failDownload}, fail-verify ${faults.failVerify}, fail-install ${faults.failInstall}, drop ${faults.drop}, offline ${faults.offline} (seed ${snapshot.seed})`,
      ],
      ['drops injected', snapshot.drops],
      ['offline episodes', snapshot.offlineEpisodes],
    ]),
  );
  return sections.join('\n\n');
}

/** The final summary for `--json`: the snapshot plus every device that did not end well. */
export function finalReportJson(
  snapshot: FleetSnapshot,
  devices: readonly DeviceReport[],
  product: { key: string; dialect: string },
): unknown {
  return {
    product: product.key,
    dialect: product.dialect,
    ...snapshot,
    failedDevices: devices
      .filter((d) => d.state === 'failed')
      .map((d) => ({ name: d.name, code: d.error?.code, message: d.error?.message, faults: d.faults })),
    unfinishedDevices: devices
      .filter((d) => isUnfinished(d.state))
      .map((d) => ({ name: d.name, state: d.state })),
  };
}

/** Still on its way when the run ended: counts against `--expect-success`. */
export function isUnfinished(state: DeviceReport['state']): boolean {
  return state === 'connecting' || state === 'downloading' || state === 'installing' || state === 'offline';
}
