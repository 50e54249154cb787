export * from './types';
export * from './errors';
export { validateProfile, assertProfile, profileSchema } from './validate';
export type { ValidateOptions, ValidateResult } from './validate';
export { securityModeNumber, contentFormatSetting, SECURITY_MODES, CONTENT_FORMAT_NAMES } from './instances';
export { findPlaceholders, placeholdersIn } from './placeholders';
