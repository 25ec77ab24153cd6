# A firewall in front of the server with a "strict" FTP inspection that does not know RFC 2428: it drops any
# control segment carrying EPSV (old PIX/ASA-style filters, some home-router ALGs). The command never gets an
# answer and the control connection stalls; PASV works; under TLS the filter cannot see EPSV and it works.
# Emulated with a payload match on the first bytes of the TCP payload (20-byte header, or 32 with the
# timestamp option Linux uses by default).
DESC="server-side firewall drops control segments carrying EPSV (cleartext only)"
rtrs_nft_extra() {
  echo "chain eatepsv { type filter hook forward priority filter - 1; policy accept;"
  echo "  tcp dport 21 @th,160,32 0x45505356 drop"
  echo "  tcp dport 21 @th,256,32 0x45505356 drop"
  echo "}"
}
