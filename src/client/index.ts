/** Public API of `ftpkit/client`. */
export type * from './options.js';
export * from '../errors.js';
export * from './tree/index.js';
