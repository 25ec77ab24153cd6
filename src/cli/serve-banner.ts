/**
 * The banner `ftpkit serve` prints on stdout once it listens: what is served to whom, where, the passive
 * ports, FTPS, and a command line to try that works with the TLS the server requires.
 */
import { urlHost } from '../protocol/hostport.js';
import type { ServePlan } from '../server/config/to-options.js';
import { DEFAULT_PASSIVE_PORT_RANGE } from '../server/resolved-options.js';

/** The URL host to show: loopback for a wildcard listener, brackets for IPv6. */
function displayHost(host: string | undefined): string {
  if (host === undefined || host === '::' || host === '0.0.0.0' || host === '') return '127.0.0.1';
  return urlHost(host);
}

/** What the banner says about FTPS, or nothing when TLS is off. */
function tlsLine(plan: ServePlan, implicitPort: number | undefined): string | undefined {
  const tls = plan.options.tls;
  if (!tls) return undefined;
  const modes: string[] = [];
  if (tls.explicit !== false) modes.push('explicit (AUTH TLS)');
  if (implicitPort !== undefined) modes.push(`implicit on port ${implicitPort}`);
  const required = tls.require === 'data' ? 'required for login and data' : tls.require === 'login' ? 'required for login' : 'optional';
  const cert = tls.certFile ? `certificate ${tls.certFile}` : `self-signed certificate kept in ${tls.stateDir}`;
  return `  FTPS: ${modes.join(', ')}; ${required}; ${cert}`;
}

/**
 * How to connect, with the TLS flags the first login needs: a plain `curl ftp://` is refused (530) when TLS
 * is required, and a self-signed certificate needs curl's -k / ftpkit's --insecure.
 */
function tryLine(plan: ServePlan, url: string, host: string, implicitPort: number | undefined): string {
  const { anonymous, users } = plan.summary;
  const user = anonymous ? undefined : users[0]?.name;
  const tls = plan.options.tls;
  const requirement = !tls ? 'none'
    : user === undefined ? tls.requireAnonymous ?? tls.require ?? 'none'
      : tls.users?.[user] ?? tls.require ?? 'none';
  const u = user !== undefined ? ` -u ${user}` : '';
  if (!tls || requirement === 'none') {
    return user !== undefined ? `  try: curl${u} ${url}/` : `  try: curl ${url}/   or   lftp ${url}`;
  }
  const insecure = tls.certFile ? '' : ' -k';
  const ftpkitInsecure = tls.certFile ? '' : ' --insecure';
  const userInUrl = user !== undefined ? `${encodeURIComponent(user)}@` : '';
  if (tls.explicit === false && implicitPort !== undefined) {
    const ftps = `ftps://${userInUrl}${host}:${implicitPort}/`;
    return `  try: curl${insecure}${u} ftps://${host}:${implicitPort}/   or   ftpkit ls${ftpkitInsecure} ${ftps}`;
  }
  return `  try: curl --ssl-reqd${insecure}${u} ${url}/   or   ftpkit ls --tls-required${ftpkitInsecure} ${url.replace('ftp://', `ftp://${userInUrl}`)}/`;
}

/**
 * The banner. `boundAddress` is what the listener really got: without --host the server tries "::" (both
 * families) and falls back to 0.0.0.0 where the machine has no IPv6.
 */
export function bannerLines(plan: ServePlan, port: number, implicitPort?: number, boundAddress?: string): string[] {
  const host = displayHost(plan.options.host);
  const url = `ftp://${host}:${port}`;
  const { anonymous, users } = plan.summary;
  const lines: string[] = [];
  if (anonymous) {
    lines.push(`ftpkit serving ${anonymous.root} ${anonymous.description} on ${url} (anonymous)`);
    for (const f of anonymous.folders ?? []) lines.push(`    folder ${f.path}: ${f.root} (${f.description})`);
  } else {
    lines.push(`ftpkit serving ${users.length} user${users.length === 1 ? '' : 's'} on ${url}`);
  }
  for (const u of users) {
    lines.push(`  user ${u.name}: ${u.root} (${u.description})`);
    for (const f of u.folders ?? []) lines.push(`    folder ${f.path}: ${f.root} (${f.description})`);
  }
  const where = plan.options.host !== undefined ? `${plan.options.host} port ${port}`
    : boundAddress === '0.0.0.0' ? `all IPv4 addresses (no IPv6 here), port ${port}` : `all addresses, IPv4 and IPv6, port ${port}`;
  const pasv = plan.options.passive?.portRange ?? DEFAULT_PASSIVE_PORT_RANGE;
  const advertised = plan.options.passive?.address ? `, advertising ${plan.options.passive.address}` : '';
  lines.push(`  listening on ${where}; passive ports ${pasv.min}-${pasv.max}${advertised}`);
  const tls = tlsLine(plan, implicitPort);
  if (tls) lines.push(tls);
  lines.push(tryLine(plan, url, host, implicitPort));
  lines.push('  stop with Ctrl-C');
  return lines;
}
