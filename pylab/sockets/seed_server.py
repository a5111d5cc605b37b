"""The seed's TCP server (seeds/sockets.md, by Linhaifeng), as written, and fixed.

Two changes only, both needed to run it in a lab: it binds port 0 (an ephemeral port,
not 8081) and prints that port; with `fixed=True` the line the seed left commented out
(`if len(msg) == 0: break`) is in. Without it, once the client disconnects `recv`
returns b'' at once, every time: the communication loop never blocks again and spins,
printing `b'' <class 'bytes'>` as fast as it can. The drivers (pylab.sockets.spin) watch
that from outside and kill it; nothing in here bounds it.
"""
import socket
import sys


def main(fixed: bool = False) -> None:
    ip_port = ('127.0.0.1', 0)  # the seed: ('127.0.0.1', 8081)
    BUFSIZE = 1024
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(ip_port)
    s.listen(5)
    print('listening on tcp 127.0.0.1 %d' % s.getsockname()[1], flush=True)

    while True:                                # the connection loop
        print('waiting for a connection', flush=True)
        conn, addr = s.accept()
        print('接到来自%s的电话' % addr[0])
        while True:                            # the communication loop
            msg = conn.recv(BUFSIZE)

            if fixed and len(msg) == 0: break  # the seed: commented out

            print(msg, type(msg))

            conn.send(msg.upper())

        conn.close()

    s.close()


if __name__ == "__main__":
    main(fixed="--fixed" in sys.argv[1:])
