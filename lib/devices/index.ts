/** Device sources: the DeviceSource seam, its in-memory implementation and the PostgreSQL one. */
export * from './types';
export * from './lru';
export * from './memory';
export * from './postgres';
export * from './postgres-schema';
export * from './csv';
export * from './device-key';
export * from './compact-table';
export * from './file-table';
export * from './write-back';
