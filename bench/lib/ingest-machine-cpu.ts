import { readFileSync } from 'node:fs';

/** Jiffies of the whole machine from /proc/stat: busy (every process: fleet, brokers, server, PostgreSQL) and all. */
export interface MachineCpu {
  busy: number;
  total: number;
}

/** Linux's USER_HZ: /proc/stat counts hundredths of a second. */
const JIFFY_MICROS = 10_000;

/** Undefined where /proc/stat is missing (not Linux). */
export function machineCpu(): MachineCpu | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return undefined;
  }
}

/**
 * How busy all cores were since `before`, and the machine's CPU per message. On this benchmark's 2-core VM the fleet,
 * the broker, the server and PostgreSQL share the cores: once they are saturated, the throughput ratio can be no
 * better than the ratio of CPU per message, whatever the server waits on. Includes anything else running.
 */
export function machineCpuSince(
  before: MachineCpu | undefined,
  messages: number,
): { machineBusyPercent: number; machineCpuMicrosPerMessage: number } | undefined {
  const after = machineCpu();
  if (!before || !after || after.total === before.total) return undefined;
  const busy = after.busy - before.busy;
  return {
    machineBusyPercent: (busy / (after.total - before.total)) * 100,
    machineCpuMicrosPerMessage: (busy * JIFFY_MICROS) / messages,
  };
}
