# Client behind a home router (NAT + stateful firewall) that forwards nothing: the common case. Active mode
# cannot work: with the private address the server refuses PORT (bounce protection), with the public address
# (--port-address) the server's connection back hits the router and is dropped. Passive works.
DESC="client NAT, nothing forwarded (active impossible, passive fine)"
CLIENT_NET=nat
RTRC_FW=on
RTRC_BLOCK=drop
