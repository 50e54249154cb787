export { RegistrationServer, RegistrationError, instanceLinks } from './server';
export type { Registration, RegistrationServerOptions } from './server';
export { startRdControlApi, controlApiPort } from './http-api';
export type { RdControlApiOptions } from './http-api';
