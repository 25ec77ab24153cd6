"""Race helper for test/unit/local-storage-race.test.ts: swaps two names atomically, in a loop.

Usage: folder_swapper.py <path-a> <path-b> <seconds>

Calls renameat2(2) with RENAME_EXCHANGE (Linux >= 3.15) through ctypes, so that at every instant one of the
two names is a real folder and the other a symlink, exactly what a local user, a sync tool or a shared
hosting neighbour can do to a folder an FTP session works in. Prints "ready" once the first exchange
succeeded (the test starts its operations then) and, at the end, "swaps <n>". Stops by itself after
<seconds> (the test also kills it by PID in t.after), so it can never outlive the test.
"""
import ctypes
import os
import sys
import time

AT_FDCWD = -100
RENAME_EXCHANGE = 2


def main() -> int:
    a, b, seconds = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2]), float(sys.argv[3])
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = libc.renameat2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    deadline = time.monotonic() + seconds
    swaps = 0
    while True:
        if renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
            err = ctypes.get_errno()
            print(f"renameat2: {os.strerror(err)}", file=sys.stderr, flush=True)
            return 2
        swaps += 1
        if swaps == 1:
            print("ready", flush=True)
        # An even count leaves both names as they were found; check the clock every 64 swaps.
        if swaps % 64 == 0 and time.monotonic() >= deadline:
            break
    print(f"swaps {swaps}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
