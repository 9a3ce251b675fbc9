import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { dirname, join, relative } from 'node:path';

/**
 * V8's CPU profiler (what `node --cpu-prof` runs), started and stopped around the measured phase only, so setup
 * and seeding do not drown the hot path. The .cpuprofile opens in Chrome DevTools or speedscope.
 */
export async function startCpuProfile(): Promise<(file: string) => Promise<ProfileSummary>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(profile));
    return summarize(profile as CpuProfile);
  };
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time per function, largest first. */
  functions: { name: string; ms: number; percent: number }[];
  /** Self time per area: node internals, each package in node_modules, Aloft's own sources. */
  areas: { name: string; ms: number; percent: number }[];
}

function summarize(profile: CpuProfile, top = 20): ProfileSummary {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const frame = byNode.get(samples[i]!);
    const ms = (deltas[i] ?? 0) / 1000;
    // The inspector's own `dispatch` (starting the profiler) is on the stack for the first samples: not Aloft's work.
    if (!frame || (frame.functionName === 'dispatch' && !frame.url)) continue;
    total += ms;
    const where = location(frame.url);
    const name = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
  }
  const rank = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: Math.round((ms / total) * 1000) / 10 }));
  return { totalMs: Math.round(total), functions: rank(functions, top), areas: rank(areas, 12) };
}

function location(url: string): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length);
  return path.startsWith('/') ? relative(process.cwd(), path) : path;
}

function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? 'node_modules');
  }
  const inRepo = relative(process.cwd(), path);
  const parts = inRepo.split('/');
  // packages/server/src/store/x.ts → server/store
  if (parts[0] === 'packages' && parts.length > 3) return `${parts[1]}/${parts[3]?.replace(/\.ts$/, '')}`;
  return inRepo;
}

export function profilePath(dir: string, name: string): string {
  return join(dir, `${name}.cpuprofile`);
}

/** `profileStart` / `profileStop` commands for a benchmark child process, around one profiler at a time. */
export function profilerCommands() {
  let stop: ((file: string) => Promise<ProfileSummary>) | undefined;
  return {
    async profileStart() {
      stop = await startCpuProfile();
    },
    async profileStop(args: { file: string }) {
      const stopping = stop;
      stop = undefined;
      return stopping ? stopping(args.file) : undefined;
    },
  };
}
