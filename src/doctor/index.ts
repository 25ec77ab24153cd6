/** Public API of `ftpkit/doctor`. */
export * from '../errors.js';
