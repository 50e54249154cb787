export * from './types';
export * from './path';
export * from './registry';
export * from './tree';
export { generatedObjects } from './objects.generated';
