# An old-school client firewall: unsolicited inbound connections are dropped, except those coming FROM
# port 20 (RFC 959's default server data port, "ftp-data"), the classic rule for letting active-mode FTP
# in. A server that connects back from an ephemeral port is dropped; one that binds port 20 gets through.
# (Its own stateful filter instead of the lab's RTRC_FW, whose chain would drop before any exception.)
DESC="client firewall admits inbound only from source port 20 (ftp-data)"
RTRC_FW=off
FTPD=none
rtrc_nft_extra() {
  echo "chain ftpdata { type filter hook forward priority filter; policy accept;"
  echo "  ct state established,related accept"
  echo "  iifname \"lan0\" accept"
  echo "  meta l4proto { icmp, ipv6-icmp } accept"
  echo "  iifname \"wan0\" tcp sport 20 accept"
  echo "  iifname \"wan0\" drop"
  echo "}"
}
