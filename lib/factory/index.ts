export * from './types';
export { buildFactoryConfig, checkBootstrapUri, DEFAULT_KEY_BYTES, NRF91_BOOTSTRAP_SEC_TAG, NRF91_SERVER_SEC_TAG } from './build';
export { FACTORY_FORMATS, FACTORY_FORMAT_NAMES, parseFactoryFormats, factoryFileBase, renderFactoryFiles } from './formats';
export type { FactoryFormat, FactoryFile } from './formats';
export { exportFactory } from './export';
export type { FactoryExport, FactoryExportOptions } from './export';
export { nrf91Script, clientArgs, shellWord } from './scripts';
export type { ClientName } from './scripts';
export { writeFactoryFiles, FACTORY_FILES_WARNING } from './export';
