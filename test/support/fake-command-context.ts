/**
 * A CommandContext without a session or a socket (src/server/commands/contract.ts), for handler-level unit
 * tests: the real session state and data-channel slot, a memory storage, recorded events.
 */
import type { Duplex } from 'node:stream';
import type { FtpCommand } from '../../src/protocol/commands.js';
import { CommandTable, runCommand } from '../../src/server/command-table.js';
import type { CommandContext, HandlerResult } from '../../src/server/commands/contract.js';
import { defaultCommandModules } from '../../src/server/commands/index.js';
import { UserSessionCount } from '../../src/server/limits/user-sessions.js';
import { MemoryFailedLoginRecord } from '../../src/server/auth/failed-logins.js';
import { READ_WRITE } from '../../src/server/auth/types.js';
import type { AuthenticatedUser, Permissions } from '../../src/server/auth/types.js';
import { defaultPassiveAddressResolver } from '../../src/server/data/passive-address-resolver.js';
import type { FtpServerOptions } from '../../src/server/options.js';
import { resolveOptions } from '../../src/server/resolved-options.js';
import { DataChannelSlot } from '../../src/server/session/data-slot.js';
import { SessionState } from '../../src/server/session/state.js';
import { MemoryStorage } from '../../src/server/storage/memory.js';
import { QuotaBook } from '../../src/server/quota/usage.js';
import type { Storage } from '../../src/server/storage/types.js';

export interface FakeContextOptions {
  storage?: Storage;
  permissions?: Permissions;
  /** Logged in as "alice" unless false. */
  loggedIn?: boolean;
  remoteAddress?: string;
  localAddress?: string;
  options?: Partial<FtpServerOptions>;
}

export interface FakeContext {
  ctx: CommandContext;
  table: CommandTable;
  warnings: string[];
  errors: unknown[];
  /** Run one command as the dispatcher would: the gates, then the row (parse, handler, storage errors). */
  run(line: string): Promise<HandlerResult>;
  /** Put a data channel that never connects in the slot, as PASV would (transfer commands need one). */
  prepareDataChannel(): void;
}

export function fakeContext(o: FakeContextOptions = {}): FakeContext {
  const storage = o.storage ?? new MemoryStorage();
  const state = new SessionState();
  const user: AuthenticatedUser = { name: 'alice', storage, permissions: o.permissions ?? { ...READ_WRITE } };
  if (o.loggedIn !== false) { state.user = user; state.phase = 'logged-in'; }
  const table = new CommandTable(defaultCommandModules);
  const warnings: string[] = [];
  const errors: unknown[] = [];
  const localAddress = o.localAddress ?? '127.0.0.1';
  const options = resolveOptions({ authenticator: { authenticate: async () => null }, ...o.options });
  let closed = false;
  const noSocket = (): never => { throw new Error('no control socket in a handler unit test'); };
  const ctx: CommandContext = {
    state,
    connection: {
      sessionId: 'fake-1', remoteAddress: o.remoteAddress ?? '127.0.0.1', remotePort: 40000, localAddress, localPort: 21,
      isIPv6: localAddress.includes(':'),
    },
    options,
    services: {
      authenticator: { authenticate: async () => null },
      failedLogins: new MemoryFailedLoginRecord(),
      passiveAddressResolver: defaultPassiveAddressResolver(),
      passivePool: undefined,
      commands: table,
      quotas: new QuotaBook({ rescanAfterMs: 0 }),
      userSessions: new UserSessionCount(options.limits),
    },
    get user() { return state.user; },
    get storage() { if (!state.user) throw new Error('not logged in'); return state.user.storage; },
    dataChannel: new DataChannelSlot(),
    transfer: undefined,
    events: {
      warn: (code, message) => { warnings.push(`${code}: ${message}`); },
      reportError: err => { errors.push(err); },
      loginFailed: () => {},
    },
    control: {
      get socket(): Duplex { return noSocket(); },
      detach: noSocket, replace: noSocket, discardPendingInput: noSocket,
    },
    get isClosed() { return closed; },
    completeLogin: u => { state.user = u; state.phase = 'logged-in'; },
    reinitialize: () => { state.reset(); },
    close: () => { closed = true; },
  };
  const run = async (line: string): Promise<HandlerResult> => {
    const sp = line.indexOf(' ');
    const cmd: FtpCommand = sp < 0 ? { verb: line.toUpperCase(), argument: '' } : { verb: line.slice(0, sp).toUpperCase(), argument: line.slice(sp + 1) };
    const spec = table.lookup(cmd.verb);
    if (!spec) throw new Error(`no row for ${cmd.verb}`);
    return table.refusal(ctx, spec, cmd) ?? runCommand(spec, ctx, cmd);
  };
  const prepareDataChannel = (): void => ctx.dataChannel.install({
    kind: 'passive', connect: () => Promise.reject(new Error('stub data channel')), close() {}, discard() {}, describe: () => 'stub',
  });
  return { ctx, table, warnings, errors, run, prepareDataChannel };
}
