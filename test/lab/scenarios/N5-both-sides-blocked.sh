# Both ends closed: the server's firewall lets only 21 in (passive fails), and the client's firewall drops
# every unsolicited inbound connection (active fails). Nothing can work until one side opens ports.
DESC="server allows only 21 inbound, client drops all inbound: no data connection possible"
RTRS_FW=on
RTRS_ALLOW_IN="21"
RTRC_FW=on
