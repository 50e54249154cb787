export * from './types';
export * from './path';
export * from './errors';
export * from './registry';
export * from './values';
export * from './secrets';
export * from './tree';
export { generatedObjects } from './objects.generated';
