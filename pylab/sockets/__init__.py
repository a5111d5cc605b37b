"""The sockets lab (seeds/sockets.md): upper-casing echo servers and clients over TCP,
UDP and AF_UNIX, the seed's claims observed live, a forking server in C beside
Python's ForkingTCPServer, a real third-party client (socat), and bounded load and
faults. Servers bind 127.0.0.1 and port 0 (an ephemeral port) unless told otherwise.
"""
LOCALHOST = "127.0.0.1"
