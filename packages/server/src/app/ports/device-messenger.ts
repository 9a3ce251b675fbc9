import type { DeviceRef, Dialect, TaskRequest, UpgradeTask } from '@aloft/protocol';

/** A device as the messenger addresses it. */
export interface AddressedDevice extends DeviceRef {
  dialect: Dialect;
}

/** Sends upgrade tasks to devices in their dialect (the MQTT gateway implements it). */
export interface DeviceMessenger {
  pushTask(device: AddressedDevice, task: UpgradeTask): Promise<void>;
  /** Answers a device's task request; no task = the dialect's "nothing pending". */
  replyTask(device: AddressedDevice, request: TaskRequest, task: UpgradeTask | undefined): Promise<void>;
}
