export { RegistrationServer, RegistrationError, instanceLinks } from './server';
export type { Registration, RegistrationServerOptions } from './server';
