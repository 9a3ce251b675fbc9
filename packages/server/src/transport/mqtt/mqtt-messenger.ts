import { codecFor, type TaskRequest, type UpgradeTask } from '@aloft/protocol';
import type { AddressedDevice, DeviceMessenger } from '../../app/ports/device-messenger.js';
import type { BrokerLink } from './broker-link.js';

/** Sends tasks to devices through the broker, each in its product's dialect. */
export class MqttMessenger implements DeviceMessenger {
  constructor(private readonly broker: BrokerLink) {}

  pushTask(device: AddressedDevice, task: UpgradeTask): Promise<void> {
    return this.broker.publish(codecFor(device.dialect).encodeUpgrade(device, task));
  }

  replyTask(device: AddressedDevice, request: TaskRequest, task: UpgradeTask | undefined): Promise<void> {
    return this.broker.publish(codecFor(device.dialect).encodeTaskReply(device, request, task));
  }
}
