/** Owns the public surface of the server configuration (file schema, loading, mapping to FtpServerOptions). */
export { configSchema, configSections, durationSchema, portRangeSchema, permissionsSchema, type ServeConfig, type ServeConfigInput, type LogLevel } from './schema.js';
export { loadConfigFile, validateConfig, configErrorFromIssues, keyPath } from './load.js';
export { planServe, mergeConfig, checkRoots, type ServePlan, type ServeSummary } from './to-options.js';
