/** Owns the public surface of the server's logs: the JSON-lines logger and the xferlog transfer log. */
export { JsonLogger, openLogFile, maskCommandLine, LOG_LEVELS, type LogLevel, type JsonLoggerOptions, type FtpServerEventSource } from './json-logger.js';
export { XferLogger, formatXferlogLine, ctimeLocal, xferlogField, type XferLoggerOptions, type XferlogEntry } from './xferlog.js';
