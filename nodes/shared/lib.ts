/**
 * The library surface the nodes use, in one place. Everything comes through lib/index.ts, the package's
 * one entry point; nodes import from here.
 */
export {
  Lwm2mError,
  defaultModel,
  nodeFromJson,
  nodeToJson,
  BootstrapDeleteRequest,
  BootstrapDiscoverRequest,
  BootstrapReadRequest,
  BootstrapWriteRequest,
  BootstrapFinishRequest,
  BootstrapServer,
  BootstrapSession,
  BootstrapPackRequest,
  runBootstrap,
  SessionOutcome,
  SessionNotFoundError,
  SessionEndedError,
  RequestTimeoutError,
  validateProfile,
  ProfileError,
  applyTemplate,
  generatePskCredentials,
  buildBootstrapPack,
  contentFormatFor,
  logText,
  logQuoted,
  LogSummarizer,
} from '../../lib';
export type {
  AuditRecord,
  LwM2mNode,
  BootstrapDownlinkRequest,
  BootstrapResponse,
  BootstrapServerOptions,
  BootstrapServerStats,
  RunStep,
  SendResult,
  BootstrapProfile,
  ProfileIssue,
} from '../../lib';
