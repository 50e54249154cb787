/** Device sources: the DeviceSource seam, its in-memory implementation and the PostgreSQL one. */
export * from './types';
export * from './lru';
export * from './memory';
export * from './postgres';
export * from './postgres-schema';
