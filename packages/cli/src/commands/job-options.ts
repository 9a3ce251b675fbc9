import { type Command, InvalidArgumentError } from 'commander';
import type { JobOptions, Strategy } from '../api/index.js';
import { CliError } from '../cli-io.js';
import { decimal, instant, integer, seconds } from './option-parsers.js';

/** The options every job-creating command shares (rollout strategy, name, supersede). */
export interface JobFlags {
  name?: string;
  supersede?: boolean;
  startAt?: number;
  endAt?: number;
  maxPerMinute?: number;
  maxInFlight?: number;
  deviceTimeout?: number;
  retries?: number;
  retryDelay?: number;
  abortFailurePercent?: number;
  abortMinFinished?: number;
  groups?: { percent: number; successThreshold: number }[];
}

/** Adds the job name, supersede and strategy options to a job-creating command. */
export function addJobOptions(command: Command): Command {
  return command
    .option('--name <name>', 'job name')
    .option(
      '--supersede',
      'cancel other active upgrades of the same devices and module instead of skipping them',
    )
    .option('--start-at <time>', 'schedule: start at this time (ISO 8601 or epoch ms)', instant)
    .option('--end-at <time>', 'devices not told by this time are cancelled (ISO 8601 or epoch ms)', instant)
    .option('--max-per-minute <n>', 'tell at most this many new devices per minute', integer(1))
    .option('--max-in-flight <n>', 'at most this many devices upgrading at once', integer(1))
    .option('--device-timeout <duration>', 'no progress for this long = timed out (90s, 15m, 2h)', seconds)
    .option('--retries <n>', 'retry a failed device this many times', integer(0, 100))
    .option('--retry-delay <duration>', 'wait between retries (30s, 5m)', seconds)
    .option(
      '--abort-failure-percent <pct>',
      'abort when failed/finished exceeds this percentage…',
      decimal(0, 100),
    )
    .option('--abort-min-finished <n>', '…once at least this many devices finished', integer(1))
    .option(
      '--groups <stages>',
      'staged rollout: cumulative percent:success threshold, e.g. 10:95,50:95,100:95',
      parseGroups,
    );
}

/** The API's job options from the flags; undefined where nothing was given, so server defaults apply. */
export function jobOptionsFrom(flags: JobFlags): JobOptions {
  const strategy: Strategy = {};
  if (flags.startAt !== undefined) strategy.startAt = flags.startAt;
  if (flags.endAt !== undefined) strategy.endAt = flags.endAt;
  if (flags.maxPerMinute !== undefined) strategy.maxPerMinute = flags.maxPerMinute;
  if (flags.maxInFlight !== undefined) strategy.maxInFlight = flags.maxInFlight;
  if (flags.deviceTimeout !== undefined) strategy.deviceTimeoutSeconds = flags.deviceTimeout;
  if (flags.retries !== undefined || flags.retryDelay !== undefined) {
    strategy.retries = {
      ...(flags.retries !== undefined ? { count: flags.retries } : {}),
      ...(flags.retryDelay !== undefined ? { delaySeconds: flags.retryDelay } : {}),
    };
  }
  if ((flags.abortFailurePercent === undefined) !== (flags.abortMinFinished === undefined)) {
    throw new CliError('--abort-failure-percent and --abort-min-finished go together');
  }
  if (flags.abortFailurePercent !== undefined && flags.abortMinFinished !== undefined) {
    strategy.abort = { failurePercent: flags.abortFailurePercent, minFinished: flags.abortMinFinished };
  }
  if (flags.groups) strategy.groups = flags.groups;
  return {
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.supersede ? { supersede: true } : {}),
    ...(Object.keys(strategy).length > 0 ? { strategy } : {}),
  };
}

/** True when any strategy flag was given (the device-list batch endpoint takes none). */
export function hasStrategy(flags: JobFlags): boolean {
  return jobOptionsFrom(flags).strategy !== undefined;
}

function parseGroups(value: string): { percent: number; successThreshold: number }[] {
  return value.split(',').map((stage) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(stage);
    const percent = Number(match?.[1]);
    const successThreshold = Number(match?.[2]);
    if (!match || percent <= 0 || percent > 100 || successThreshold > 100) {
      throw new InvalidArgumentError(
        'expected stages like 10:95,50:95,100:95 (cumulative percent:success threshold).',
      );
    }
    return { percent, successThreshold };
  });
}
