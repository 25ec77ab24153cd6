/** Public API of `ftpkit/server`. */
export type * from './options.js';
export type * from './auth/types.js';
export type * from './storage/types.js';
export * from '../errors.js';
