/**
 * The simulator around SimulatedClient and Fleet that the client-sim node adapts to Node-RED: settings,
 * commands, a fleet's device file, persisted stores and the controller that turns client events into
 * outputs and status through a sink. No Node-RED here.
 */
export { SimController, libraryFaults, shownFaults, traceSummary } from './controller';
export type { SimSink, SimStatusKind } from './controller';
export { COMMANDS, CommandError, parseCommand, checkFaults } from './commands';
export type { Command, CommandName, SimFaults } from './commands';
export { DeviceFileError, parseDeviceTable, loadDeviceTable } from './device-file';
export { storeFingerprint, checkStoreFingerprint, removeStores, removeAll } from './stores';
export type { SimSettings } from './settings';
