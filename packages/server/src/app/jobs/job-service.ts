import { DEFAULT_MODULE } from '@aloft/protocol';
import {
  isActiveUpgradeState,
  type JobEvent,
  type RolloutStrategyInput,
  type TargetSpec,
  transitionJob,
  validateStrategy,
  validateTargetSpec,
} from '../../domain/index.js';
import { AloftError, aloftError } from '../../errors.js';
import type { Clock } from '../clock.js';
import type { DeviceRepository } from '../ports/device-repository.js';
import type { Firmware, FirmwareRepository } from '../ports/firmware-repository.js';
import type { Job, JobFilter, JobKind, JobRepository, UpgradeRepository } from '../ports/job-repository.js';
import { changeFor } from './upgrade-changes.js';

export interface JobOptions {
  name?: string;
  strategy?: RolloutStrategyInput;
  /** Cancel other jobs' active upgrades of the same devices and module instead of leaving those devices out. */
  supersede?: boolean;
}

export interface BatchJobInput extends JobOptions {
  firmwareId: number;
  /** Omitted filters select all devices of the firmware's product. */
  targets?: TargetSpec;
  /** Keep enrolling devices that later report a matching source version, until the end time. */
  dynamic?: boolean;
  /** Roll out a package that has not passed a verify job (recorded on the job). */
  allowUnverified?: boolean;
}

export interface JobServiceDeps {
  jobs: JobRepository;
  upgrades: UpgradeRepository;
  devices: DeviceRepository;
  firmware: FirmwareRepository;
  clock: Clock;
  /** Asks the engine for a reconcile pass now (a new job dispatches without waiting for the next tick). */
  kick(): void;
  /** Cancels every active upgrade of a job (the engine's sweep). */
  cancelActive(job: Job, now: number, message: string): Promise<void>;
}

/** Creating and steering upgrade jobs. The engine does the rolling out. */
export class JobService {
  constructor(private readonly deps: JobServiceDeps) {}

  /** Upgrade one device (the simplest call a business system makes). */
  async createSingle(input: JobOptions & { firmwareId: number; deviceName: string }): Promise<Job> {
    const firmware = await this.firmwareOf(input.firmwareId);
    const device = await this.deps.devices.find(firmware.productKey, input.deviceName);
    if (!device) throw aloftError('DEVICE_NOT_FOUND', `${firmware.productKey}/${input.deviceName}`);
    if (!input.supersede) {
      const active = (await this.deps.upgrades.activeForDevices([device.id])).find(
        (u) => u.module === firmware.module,
      );
      if (active) {
        throw new AloftError('UPGRADE_CONFLICT', [input.deviceName, firmware.module], {
          upgradeId: active.id,
          jobId: active.jobId,
          hint: 'set supersede: true to cancel it and start this one',
        });
      }
    }
    return this.create('single', firmware, { ...input, targets: { deviceNames: [input.deviceName] } });
  }

  /** Try a package on a few named test devices; when all succeed it becomes `verified`. */
  async createVerify(input: JobOptions & { firmwareId: number; deviceNames: string[] }): Promise<Job> {
    const firmware = await this.firmwareOf(input.firmwareId);
    if (input.deviceNames.length === 0 || input.deviceNames.length > 1000) {
      throw new AloftError('JOB_INVALID', ['a verify job needs 1 to 1000 test devices']);
    }
    if (
      !(await this.deps.firmware.setVerifyState(
        firmware.id,
        ['unverified', 'verify_failed', 'verified'],
        'verifying',
        null,
      ))
    ) {
      throw new AloftError('JOB_INVALID', [`firmware ${firmware.id} is being verified by another job`]);
    }
    return this.create('verify', firmware, { ...input, targets: { deviceNames: input.deviceNames } });
  }

  async createBatch(input: BatchJobInput): Promise<Job> {
    const firmware = await this.firmwareOf(input.firmwareId);
    if (firmware.verifyState !== 'verified' && !input.allowUnverified)
      throw aloftError('FIRMWARE_UNVERIFIED', firmware.id);
    // Default source versions: those the package declares it may be applied to.
    const inherit = input.targets?.sourceVersions === undefined && firmware.sourceVersions.length > 0;
    const targets: TargetSpec = {
      ...input.targets,
      ...(inherit ? { sourceVersions: firmware.sourceVersions } : {}),
    };
    if (input.dynamic && !targets.sourceVersions) {
      throw new AloftError('JOB_INVALID', [
        'a dynamic job needs source versions (in targets or on the package)',
      ]);
    }
    return this.create('batch', firmware, { ...input, targets });
  }

  /** Re-upgrade the failed and timed-out devices of a finished or running job ("upgrade again"). */
  async createRetry(parentJobId: number, options: JobOptions = {}): Promise<Job> {
    const parent = await this.get(parentJobId);
    const failed = await this.deps.upgrades.failedDeviceIds(parent.id);
    if (!failed.length)
      throw new AloftError('JOB_INVALID', [`job ${parent.id} has no failed devices to retry`]);
    const firmware = await this.firmwareOf(parent.firmwareId);
    return this.create('retry', firmware, {
      ...options,
      firmwareId: firmware.id,
      strategy: options.strategy ?? {
        ...parent.strategy,
        startAt: undefined,
        endAt: undefined,
        groups: undefined,
      },
      targets: {},
      parentJobId: parent.id,
      sourceVersions: parent.sourceVersions,
    });
  }

  private async create(
    kind: JobKind,
    firmware: Firmware,
    input: BatchJobInput & { targets: TargetSpec; parentJobId?: number; sourceVersions?: string[] },
  ): Promise<Job> {
    const now = this.deps.clock();
    const strategy = validateStrategy(input.strategy ?? {}, now);
    const targets = validateTargetSpec(input.targets);
    const errors = [...(strategy.ok ? [] : strategy.errors), ...(targets.ok ? [] : targets.errors)];
    if (!strategy.ok || !targets.ok) throw new AloftError('JOB_INVALID', [errors.join('; ')], { errors });
    const startsLater = strategy.strategy.startAt !== undefined && strategy.strategy.startAt > now;
    const job = await this.deps.jobs.create(
      {
        kind,
        name: input.name ?? `${kind} ${firmware.module} ${firmware.version}`,
        productKey: firmware.productKey,
        firmwareId: firmware.id,
        module: firmware.module,
        targetVersion: firmware.version,
        state: startsLater ? 'scheduled' : 'running',
        targets: targets.spec,
        sourceVersions: input.sourceVersions ?? targets.spec.sourceVersions?.slice() ?? [],
        strategy: strategy.strategy,
        dynamic: input.dynamic ?? false,
        allowUnverified: input.allowUnverified ?? false,
        supersede: input.supersede ?? false,
        parentJobId: input.parentJobId ?? null,
        startedAt: startsLater ? null : now,
      },
      now,
    );
    this.deps.kick();
    return job;
  }

  async get(id: number): Promise<Job> {
    const job = await this.deps.jobs.get(id);
    if (!job) throw aloftError('JOB_NOT_FOUND', id);
    return job;
  }

  list(filter: JobFilter) {
    return this.deps.jobs.list(filter);
  }

  pause(id: number): Promise<Job> {
    return this.steer(id, 'pause');
  }

  resume(id: number): Promise<Job> {
    return this.steer(id, 'resume');
  }

  /** Cancels the job and every upgrade of it not finished yet. */
  async cancel(id: number): Promise<Job> {
    const job = await this.steer(id, 'cancel');
    // Should the server stop halfway, the engine finishes this from the job's state (RolloutEngine.finishStopping).
    if (job.kind === 'verify') {
      await this.deps.firmware.setVerifyState(
        job.firmwareId,
        ['verifying'],
        'unverified',
        `verify job ${id} cancelled`,
      );
    }
    await this.deps.cancelActive(job, this.deps.clock(), 'job cancelled');
    return job;
  }

  private async steer(id: number, event: JobEvent): Promise<Job> {
    // The engine moves jobs too (start, complete, abort): on a lost compare-and-set, decide again on a fresh read.
    for (let attempt = 0; attempt < 5; attempt++) {
      const job = await this.get(id);
      const result = transitionJob(job.state, event);
      if (result.outcome === 'refused') throw aloftError('JOB_TRANSITION', id, event, job.state);
      if (result.outcome === 'ignored') return job;
      const now = this.deps.clock();
      const patch = result.state === 'cancelled' ? { finishedAt: now } : {};
      if (await this.deps.jobs.moveState(id, [job.state], result.state, patch)) {
        if (event === 'resume') this.deps.kick();
        return this.get(id);
      }
    }
    throw aloftError('JOB_TRANSITION', id, event, (await this.get(id)).state);
  }

  /** Cancels one device's upgrade. */
  async cancelUpgrade(upgradeId: number): Promise<void> {
    // Compare-and-set against a device or an instance moving it meanwhile: read again and retry, as the
    // cancel is allowed from every active state.
    for (let attempt = 0; attempt < 5; attempt++) {
      const upgrade = await this.deps.upgrades.get(upgradeId);
      if (!upgrade) throw aloftError('UPGRADE_NOT_FOUND', upgradeId);
      if (!isActiveUpgradeState(upgrade.state)) {
        throw new AloftError('JOB_INVALID', [`upgrade ${upgradeId} is already ${upgrade.state}`]);
      }
      const job = await this.get(upgrade.jobId);
      const now = this.deps.clock();
      const change = changeFor(upgrade, job, { type: 'cancelled' }, now);
      if (
        change &&
        (await this.deps.upgrades.apply(upgradeId, { ...change, message: 'cancelled by operator' }, now))
      )
        return;
    }
    throw new AloftError('JOB_INVALID', [`upgrade ${upgradeId} keeps changing; try again`]);
  }

  /** A device's upgrade status for one module: its latest upgrade (if any) and its current version. */
  async deviceStatus(productKey: string, deviceName: string, module = DEFAULT_MODULE) {
    const device = await this.deps.devices.find(productKey, deviceName);
    if (!device) throw aloftError('DEVICE_NOT_FOUND', `${productKey}/${deviceName}`);
    const upgrade = await this.deps.upgrades.latestForDevice(device.id, module);
    const current = device.versions.find((v) => v.module === module)?.version ?? null;
    return { device: deviceName, module, currentVersion: current, upgrade: upgrade ?? null };
  }

  async deviceHistory(productKey: string, deviceName: string, limit = 20) {
    const device = await this.deps.devices.find(productKey, deviceName);
    if (!device) throw aloftError('DEVICE_NOT_FOUND', `${productKey}/${deviceName}`);
    const { upgrades, events } = await this.deps.upgrades.historyOfDevice(device.id, limit);
    return upgrades.map((u) => ({ ...u, transitions: events.filter((e) => e.upgradeId === u.id) }));
  }

  private async firmwareOf(id: number): Promise<Firmware> {
    const firmware = await this.deps.firmware.get(id);
    if (!firmware) throw aloftError('FIRMWARE_NOT_FOUND', id);
    return firmware;
  }
}
