/**
 * PROT P on the data connection (RFC 4217 s9): a freshly connected data socket is handed to TLS when the
 * session's protection level is Private, looked up when the connection is made (PROT may change between
 * PASV/PORT and the transfer command). The server is the TLS server in both modes (RFC 4217 s7).
 */
import type { DataSocketWrapper } from '../data/data-channel.js';
import type { SessionState } from '../session/state.js';

export function dataSocketProtection(state: SessionState): DataSocketWrapper {
  return (socket) => {
    const control = state.tls.control;
    return state.tls.prot === 'P' && control ? control.secureData(socket) : Promise.resolve(socket);
  };
}
