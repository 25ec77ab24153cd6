# Client behind NAT whose router runs an FTP ALG (nf_conntrack_ftp + nf_nat_ftp on port 21): in cleartext
# it rewrites the PORT/EPRT address to the public one and lets the server's connection back in; with TLS it
# cannot read PORT, the private address reaches the server, which refuses it. Passive works either way.
DESC="client NAT + FTP ALG on the client router (active works only in cleartext)"
CLIENT_NET=nat
RTRC_FW=on
RTRC_ALG=yes
