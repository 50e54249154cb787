/**
 * node-red-contrib-lwm2m-bootstrap: the protocol library. No Node-RED in here: nodes/ import from this
 * entry point, and so can any other program that wants an LwM2M Bootstrap-Server, codecs or a
 * simulated client.
 */
export * from './errors';
export { logText, logQuoted, LOG_TEXT_MAX } from './log-text';
export { LogSummarizer } from './log-summary';
export * from './model';
export * from './codec';
export * from './profile';
export * from './bootstrap';
export * from './audit';
export * from './devices';
export * from './keys';
export * as client from './client';
export * as rd from './rd';
export * as dtls from './dtls';
export * as factory from './factory';
// Three areas name the Bootstrap-Discover summary; the codec's is the one that parses it.
export type { DiscoverInfo } from './codec';
