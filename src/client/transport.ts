/**
 * The FTPS module's registration: FtpClient knows nothing about TLS itself; it calls session hooks (typed in
 * options.ts: implicit TLS right after connect, AUTH TLS before login, PBSZ/PROT after login, wrapping every
 * data socket so it resumes the control connection's TLS session, RFC 4217). The FTPS module (tls.ts)
 * registers its hook factory here on import; `options.hooks` overrides it per client.
 */
import type { FtpClientOptions, SessionHooks } from './options.js';

let secureHooksFactory: ((options: Readonly<FtpClientOptions>) => SessionHooks) | undefined;

/** The FTPS module registers how to make hooks for `secure: 'explicit' | 'implicit'`. */
export function registerSecureHooks(factory: (options: Readonly<FtpClientOptions>) => SessionHooks): void {
  secureHooksFactory = factory;
}

export function secureHooksFor(options: Readonly<FtpClientOptions>): SessionHooks | undefined {
  return secureHooksFactory?.(options);
}
