#!/usr/bin/python3
"""Python ftplib as a test client (run by test/support/peers-clients.ts runFtplib).

Reads a JSON spec on stdin (host, port, user, password, mode, tls, reuseSession, prot, caFile, tlsVersion,
socketTimeout, actions) and prints one JSON report on stdout:
  {"ok": bool, "steps": [...], "transcript": ["> USER x", "< 331 ...", ...], "error": "..."}
It stops at the first failing action. The password travels on stdin and is masked in the transcript.

Modes: pasv   ftplib's default (PASV on IPv4 - it ignores the 227 address - EPSV on IPv6)
       epsv   EPSV on IPv4 too (ftplib only sends it by itself on IPv6)
       active set_pasv(False): PORT on IPv4, EPRT on IPv6, listening on the control socket's local address
       eprt   active with EPRT on IPv4 too
TLS:   explicit (AUTH TLS, PROT P unless prot C), implicit (TLS from the first byte); reuseSession wraps each
       data socket with session=<control session> (RFC 4217 s10 / what vsftpd's require_ssl_reuse demands;
       stock FTP_TLS does not do it).
"""
import ftplib
import hashlib
import json
import socket
import ssl
import sys


def make_class(spec):
    tls = spec.get("tls", "none")
    mode = spec.get("mode", "pasv")
    reuse = bool(spec.get("reuseSession"))
    base = ftplib.FTP if tls == "none" else ftplib.FTP_TLS

    class Client(base):
        def __init__(self, *args, **kwargs):
            self.transcript = []
            super().__init__(*args, **kwargs)

        # --- transcript: every command and reply line, PASS masked -------------------------------------
        def putcmd(self, line):
            shown = "PASS ****" if line[:5].upper() == "PASS " else line
            self.transcript.append("> " + shown)
            super().putcmd(line)

        def getline(self):
            line = super().getline()
            self.transcript.append("< " + line)
            return line

        # --- data connection modes ---------------------------------------------------------------------
        def makepasv(self):
            if mode == "epsv":
                host, port = ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())
                return host, port
            return super().makepasv()

        def makeport(self):
            if mode == "eprt" and self.af == socket.AF_INET:
                sock = socket.create_server((self.sock.getsockname()[0], 0), family=socket.AF_INET, backlog=1)
                port = sock.getsockname()[1]
                self.voidcmd("EPRT |1|%s|%d|" % (self.sock.getsockname()[0], port))
                if self.timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                    sock.settimeout(self.timeout)
                return sock
            return super().makeport()

        def ntransfercmd(self, cmd, rest=None):
            if tls != "none" and reuse:
                conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
                if self._prot_p:
                    conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
                return conn, size
            return super().ntransfercmd(cmd, rest)

    return Client


def tls_context(spec):
    if spec.get("caFile"):
        ctx = ssl.create_default_context(cafile=spec["caFile"])
    else:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    version = spec.get("tlsVersion")
    if version == "1.2":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif version == "1.3":
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def open_client(spec):
    cls = make_class(spec)
    timeout = float(spec.get("socketTimeout", 20))
    tls = spec.get("tls", "none")
    if tls == "none":
        f = cls(timeout=timeout)
    else:
        f = cls(context=tls_context(spec), timeout=timeout)
    host, port = spec["host"], int(spec["port"])
    if tls == "implicit":
        # ftplib has no implicit FTPS: connect, wrap, then read the greeting ourselves.
        f.host, f.port = host, port
        raw = socket.create_connection((host, port), timeout)
        f.af = raw.family
        f.sock = f.context.wrap_socket(raw, server_hostname=host)
        f.file = f.sock.makefile("r", encoding=f.encoding)
        f.welcome = f.getresp()
    else:
        f.connect(host, port)
    user = spec.get("user", "anonymous")
    password = spec.get("password", "anonymous@example.com")
    if tls == "explicit":
        f.auth()
    f.login(user, password, secure=False) if tls != "none" else f.login(user, password)
    if tls != "none":
        if spec.get("prot", "P") == "P":
            f.prot_p()
        else:
            f.prot_c()
    if spec.get("mode", "pasv") in ("active", "eprt"):
        f.set_pasv(False)
    # Connect where the 227 reply says (ftplib uses the control host instead since bpo-43285).
    f.trust_server_pasv_ipv4_address = bool(spec.get("trustPasvAddress"))
    return f


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_action(f, a):
    op = a["op"]
    step = {"op": op, "ok": False}
    if op == "pwd":
        step["value"] = f.pwd()
    elif op == "cwd":
        step["reply"] = f.cwd(a["path"])
    elif op == "list":
        lines = []
        step["reply"] = f.retrlines("LIST" + (" " + a["path"] if a.get("path") else ""), lines.append)
        step["lines"] = lines
    elif op == "nlst":
        lines = []
        step["reply"] = f.retrlines("NLST" + (" " + a["path"] if a.get("path") else ""), lines.append)
        step["lines"] = lines
    elif op == "mlsd":
        step["entries"] = [[name, facts] for name, facts in f.mlsd(a.get("path", ""))]
        step["reply"] = f.lastresp
    elif op == "retr":
        rest = a.get("rest")
        h = hashlib.sha256()
        n = 0
        with open(a["local"], "r+b" if rest else "wb") as fh:
            if rest:
                fh.seek(rest)
                fh.truncate()

            def write(b):
                nonlocal n
                fh.write(b)
                h.update(b)
                n += len(b)
            if a.get("ascii"):
                step["reply"] = f.retrlines("RETR " + a["remote"], lambda line: write((line + "\n").encode(f.encoding)))
            else:
                step["reply"] = f.retrbinary("RETR " + a["remote"], write, blocksize=256 * 1024, rest=rest)
        step["bytes"] = n
        step["sha256"] = sha256_file(a["local"])
    elif op in ("stor", "appe"):
        rest = a.get("rest")
        with open(a["local"], "rb") as fh:
            if rest:
                fh.seek(rest)
            verb = "STOR " if op == "stor" else "APPE "
            if a.get("ascii"):
                step["reply"] = f.storlines(verb + a["remote"], fh)
            else:
                step["reply"] = f.storbinary(verb + a["remote"], fh, blocksize=256 * 1024, rest=rest)
            step["bytes"] = fh.tell() - (rest or 0)
    elif op == "size":
        f.voidcmd("TYPE I")
        step["value"] = f.size(a["path"])
    elif op == "mdtm":
        step["reply"] = f.sendcmd("MDTM " + a["path"])
    elif op == "mkd":
        step["value"] = f.mkd(a["path"])
    elif op == "rmd":
        step["reply"] = f.rmd(a["path"])
    elif op == "dele":
        step["reply"] = f.delete(a["path"])
    elif op == "rename":
        step["reply"] = f.rename(a["from"], a["to"])
    elif op == "cmd":
        try:
            step["reply"] = f.sendcmd(a["line"])
        except ftplib.all_errors as e:
            if not a.get("expectError"):
                raise
            step["reply"] = str(e)
    else:
        raise ValueError("unknown op " + op)
    step["ok"] = True
    return step


def main():
    spec = json.load(sys.stdin)
    report = {"ok": False, "steps": [], "transcript": []}
    f = None
    try:
        f = open_client(spec)
        report["welcome"] = f.welcome
        for a in spec.get("actions", []):
            try:
                report["steps"].append(run_action(f, a))
            except Exception as e:  # noqa: BLE001 - every failure is reported, then we stop
                report["steps"].append({"op": a.get("op"), "ok": False, "error": "%s: %s" % (type(e).__name__, e)})
                raise
        try:
            f.quit()
        except ftplib.all_errors:
            pass
        report["ok"] = True
    except Exception as e:  # noqa: BLE001
        report["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        if f is not None:
            report["transcript"] = f.transcript
            try:
                f.close()
            except Exception:  # noqa: BLE001
                pass
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
