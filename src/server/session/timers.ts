/**
 * A session timeout of `ms` (0 or Infinity: none). Unref'd: the connection keeps the process alive, not
 * this timer (an embedding app can exit cleanly).
 */
export function sessionTimer(ms: number, onExpiry: () => void): NodeJS.Timeout | undefined {
  if (!(ms > 0) || !Number.isFinite(ms)) return undefined;
  const timer = setTimeout(onExpiry, ms);
  timer.unref();
  return timer;
}
