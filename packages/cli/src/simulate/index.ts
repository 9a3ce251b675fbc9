/**
 * The fleet simulator behind `aloft simulate`, for tests and benchmarks that play a fleet programmatically.
 */
export {
  type DeviceFaults,
  type FaultCounts,
  type FaultFractions,
  type PlannedFailure,
  planFaults,
} from './fault-plan.js';
export { Fleet, type FleetOptions, type FleetProduct, type FleetSnapshot } from './fleet.js';
export {
  deviceNames,
  type ProvisionedFleet,
  type ProvisionOptions,
  parseDevicesFile,
  provisionFleet,
} from './fleet-provisioning.js';
export { finalReportJson, formatFinalReport, formatLiveStatus } from './fleet-report.js';
export { simulateCommand } from './simulate-command.js';
export {
  type DeviceIdentity,
  type DeviceReport,
  SIMULATED_DEVICE_STATES,
  type SimulatedDeviceState,
} from './simulated-device.js';
