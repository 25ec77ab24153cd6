/**
 * The last stage of a download or listing: the data-socket writer both sides share, WireWriter in
 * net/data-stages.ts, which documents its completion rule (every byte accepted by the socket = complete,
 * whatever the client does with the connection afterwards).
 */
export { WireWriter as DataSocketSink } from '../../net/data-stages.js';
