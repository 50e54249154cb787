/**
 * The simulated-client surface the client-sim node uses, from the package's one entry point (lib/index.ts
 * exports it as the `client` namespace).
 */
import { client } from '../../lib';

export const SimController = client.SimController;
export type SimController = client.SimController;
export type SimStatusKind = client.SimStatusKind;
export const CommandError = client.CommandError;
export type CommandError = client.CommandError;
export const parseCommand = client.parseCommand;
export type SimSettings = client.SimSettings;
