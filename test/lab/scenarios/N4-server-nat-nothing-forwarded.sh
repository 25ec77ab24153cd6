# A half-done server NAT setup: only port 21 is forwarded, no ALG, and the server was not told its public
# address. Two things are wrong at once: the 227 reply carries 10.0.20.2, and the passive ports are not
# forwarded (the router drops them). Only active mode works.
DESC="server NAT, only 21 forwarded, private PASV address, no ALG"
SERVER_NET=nat
RTRS_FW=on
RTRS_DNAT="21"
