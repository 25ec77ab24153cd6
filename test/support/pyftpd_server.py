#!/usr/bin/python3
"""pyftpdlib server for ftpkit's tests (started by test/support/peers-servers.ts startPyftpdlib).

One named user with full rights on ROOT, plus anonymous read-only access with upload rights in ROOT/upload.
The password comes from the environment (FTPKIT_PEER_PASSWORD), never from argv (visible in ps).
Logs go to stderr, which the harness keeps for failure messages.
"""
import argparse
import logging
import os

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--user", default="ftpkit")
    ap.add_argument("--pasv-range", required=True, help="MIN-MAX")
    ap.add_argument("--masquerade", default=None, help="IPv4 address to advertise in 227 replies")
    ap.add_argument("--tls", default="off", choices=["off", "explicit", "required"])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--no-epsv", action="store_true", help="drop EPSV/EPRT (a server predating RFC 2428)")
    ap.add_argument("--permit-foreign", action="store_true", help="allow PORT/EPRT to other hosts (FXP)")
    ap.add_argument("--max-cons", type=int, default=256, help="concurrent connections (0: no limit; the bench raises it)")
    ap.add_argument("--log-level", default="INFO", help="Python logging level (the bench logs warnings only)")
    a = ap.parse_args()

    logging.basicConfig(level=getattr(logging, a.log_level.upper()), format="%(asctime)s %(message)s")

    auth = DummyAuthorizer()
    auth.add_user(a.user, os.environ.get("FTPKIT_PEER_PASSWORD", "ftpkit-secret"), a.root, perm="elradfmwMT")
    auth.add_anonymous(a.root, perm="elr")
    upload = os.path.join(a.root, "upload")
    if os.path.isdir(upload):
        auth.override_perm("anonymous", upload, perm="elradfmw", recursive=True)

    if a.tls == "off":
        base = FTPHandler
    else:
        from pyftpdlib.handlers import TLS_FTPHandler
        base = TLS_FTPHandler

    class Handler(base):
        pass

    if a.tls != "off":
        Handler.certfile = a.cert
        Handler.keyfile = a.key
        Handler.tls_control_required = a.tls == "required"
        Handler.tls_data_required = a.tls == "required"

    lo, hi = (int(x) for x in a.pasv_range.split("-"))
    Handler.passive_ports = range(lo, hi + 1)
    Handler.authorizer = auth
    Handler.banner = "pyftpdlib (ftpkit test peer) ready."
    Handler.permit_foreign_addresses = a.permit_foreign
    if a.masquerade:
        Handler.masquerade_address = a.masquerade
    if a.no_epsv:
        Handler.proto_cmds = {k: v for k, v in Handler.proto_cmds.items() if k not in ("EPSV", "EPRT")}

    server = FTPServer((a.host, a.port), Handler)
    server.max_cons = a.max_cons
    server.serve_forever()


if __name__ == "__main__":
    main()
