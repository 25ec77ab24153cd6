/**
 * Veto hooks: what a host application registers to allow or refuse an action before it happens (a login,
 * an upload, a delete, a rename, a folder creation), where the events of events.ts only tell it afterwards.
 * The models are ftp-srv's and libunftp's hooks and SFTPGo's pre-action hooks.
 *
 * A hook returns allow (or nothing), or deny(reason, code?): the client gets `code` (default 550, 530 for a
 * login) and the reason. A hook that throws, or has not answered within the timeout, refuses the action
 * with 451 (RFC 959 s4.2: "local error in processing") and is reported ('session-error' for a throw, a
 * 'warning' with code 'hook-timeout' for a hang): a broken host application must never let through what it
 * was asked to judge. With no hooks registered nothing here runs (the server keeps no runner).
 *
 * Registered with `new FtpServer(options, { hooks: { beforeUpload: async (ctx) => ... } })`; the commands ask
 * through commands/veto.ts.
 */

/** What a hook answers. */
export type HookVerdict = { allow: true } | { allow: false; reason: string; code?: number };
/** A hook may also return nothing (undefined): allow. */
export type HookResult = HookVerdict | undefined | void;

/** Let the action happen. */
export function allow(): HookVerdict {
  return { allow: true };
}

/**
 * Refuse the action: the client gets `code` (a 4xx or 5xx reply code; default 550, and 530 for a login)
 * with `reason` as the text. Keep the reason short and free of secrets: it goes to the client.
 */
export function deny(reason: string, code?: number): HookVerdict {
  return code === undefined ? { allow: false, reason } : { allow: false, reason, code };
}

/** Who asks, in every hook's context. */
export interface HookSession {
  sessionId: string;
  /** The client's address (IPv4-mapped addresses unmapped). */
  remoteAddress: string;
  /** The user name (after login: the authenticated name). */
  user: string;
}

/** After the password was accepted, before the session is logged in. */
export interface LoginHookContext extends HookSession {
  anonymous: boolean;
  /** The control connection is protected by TLS. */
  secure: boolean;
}

/** STOR, STOU (with the unique name chosen) and APPE, before the file is opened. */
export interface UploadHookContext extends HookSession {
  verb: 'STOR' | 'STOU' | 'APPE';
  /** Virtual path of the file. */
  path: string;
  /** REST offset of a resumed STOR, else 0. */
  offset: number;
}

/** DELE (a file) and RMD (a folder). */
export interface DeleteHookContext extends HookSession {
  verb: 'DELE' | 'RMD';
  path: string;
}

/** RNTO, with the path RNFR named. */
export interface RenameHookContext extends HookSession {
  from: string;
  to: string;
}

/** MKD. */
export interface MkdirHookContext extends HookSession {
  path: string;
}

type Hook<C> = (context: C) => HookResult | Promise<HookResult>;

export interface FtpServerHooks {
  beforeLogin?: Hook<LoginHookContext>;
  beforeUpload?: Hook<UploadHookContext>;
  beforeDelete?: Hook<DeleteHookContext>;
  beforeRename?: Hook<RenameHookContext>;
  beforeMkdir?: Hook<MkdirHookContext>;
}

export interface HookContexts {
  beforeLogin: LoginHookContext;
  beforeUpload: UploadHookContext;
  beforeDelete: DeleteHookContext;
  beforeRename: RenameHookContext;
  beforeMkdir: MkdirHookContext;
}
export type HookName = keyof HookContexts;

/** How long a hook may take before the action is refused with 451. */
export const DEFAULT_HOOK_TIMEOUT_MS = 5000;

/** What a hook run came to. */
export type HookOutcome =
  | { kind: 'allow' }
  | { kind: 'deny'; reason: string; code: number | undefined }
  | { kind: 'failed'; error: unknown }
  | { kind: 'timeout'; timeoutMs: number };

const ALLOWED: HookOutcome = Object.freeze({ kind: 'allow' });

/** A deny code must be a 4xx or 5xx reply code; any other is replaced by the hook's default. */
function replyCodeOf(code: unknown): number | undefined {
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code <= 599 ? code : undefined;
}

/** Runs the registered hooks, each bounded by the timeout. One per server. */
export class HookRunner {
  private readonly hooks: FtpServerHooks;

  constructor(hooks: FtpServerHooks, readonly timeoutMs: number = DEFAULT_HOOK_TIMEOUT_MS) {
    this.hooks = { ...hooks };
    if (!(timeoutMs > 0)) throw new TypeError('hookTimeoutMs must be a positive number of milliseconds');
  }

  /** A runner for the hooks given, or undefined when none is (then the commands ask nothing). */
  static of(hooks: FtpServerHooks | undefined, timeoutMs?: number): HookRunner | undefined {
    if (!hooks || !Object.values(hooks).some((h) => typeof h === 'function')) return undefined;
    return new HookRunner(hooks, timeoutMs);
  }

  has(name: HookName): boolean {
    return typeof this.hooks[name] === 'function';
  }

  async run<N extends HookName>(name: N, context: HookContexts[N]): Promise<HookOutcome> {
    const hook = this.hooks[name] as Hook<HookContexts[N]> | undefined;
    if (!hook) return ALLOWED;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<HookOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout', timeoutMs: this.timeoutMs }), this.timeoutMs);
    });
    const judged = (async (): Promise<HookOutcome> => {
      try {
        // A copy, frozen: a hook cannot change what the command goes on to do.
        const verdict = await hook(Object.freeze(Object.assign({}, context)) as HookContexts[N]);
        if (verdict === undefined || verdict === null || verdict.allow === true) return ALLOWED;
        if (verdict.allow === false) {
          return { kind: 'deny', reason: String(verdict.reason ?? 'refused'), code: replyCodeOf(verdict.code) };
        }
        return { kind: 'failed', error: new TypeError(`${name} returned neither allow() nor deny()`) };
      } catch (error) {
        return { kind: 'failed', error };
      }
    })();
    try {
      return await Promise.race([judged, expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}
