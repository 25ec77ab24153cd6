# Server behind a port-mapping NAT (Docker -p 40000-40009:30000-30009, a cloud load balancer): the router
# forwards 21 as is, but public ports 40000-40009 to private 30000-30009 one to one. The server must listen
# on 30000-30009 and advertise 40000-40009 in 227/229 (ftpkit serve --pasv-advertised-ports), besides its
# public address in 227 (--pasv-address). The lab's servers cannot do this; start ftpkit with --ftpd none.
DESC="server NAT with a port-mapped passive range (public 40000-40009 -> private 30000-30009)"
SERVER_NET=nat
RTRS_FW=on
RTRS_DNAT="21"
FTPD=none
rtrs_nft_extra() {
  local map="" i
  for i in $(seq 0 9); do map="$map$([ -n "$map" ] && echo ', ')$((40000 + i)) : $((30000 + i))"; done
  echo "chain portmap { type nat hook prerouting priority dstnat - 1; policy accept;"
  echo "  iifname \"wan0\" ip daddr $RS_WAN4 tcp dport 40000-40009 dnat ip to $S4 : tcp dport map { $map }"
  echo "}"
}
