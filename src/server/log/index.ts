/** Owns the public surface of the server's JSON-lines logger. */
export { JsonLogger, openLogFile, maskCommandLine, LOG_LEVELS, type LogLevel, type JsonLoggerOptions, type FtpServerEventSource } from './json-logger.js';
