"""`pylab sockets pyfork-server`: Python's socketserver.ForkingTCPServer, upper-casing, with
each collect_children printed (pylab.sockets.forking watches its zombies from outside).

Only the standard library: a server process pays for nothing it does not run."""
from __future__ import annotations

import signal
import socketserver
import sys
import threading


class _Upper(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            msg = self.request.recv(1024)
            if not msg:
                return
            self.request.sendall(msg.upper())


class _Server(socketserver.ForkingTCPServer):
    allow_reuse_address = True

    def collect_children(self, *, blocking=False):
        before = len(self.active_children or ())
        super().collect_children(blocking=blocking)
        after = len(self.active_children or ())
        print(f"collect_children: {before} -> {after} active", flush=True)


def serve(poll_interval: float) -> int:
    """ForkingTCPServer on 127.0.0.1:0; prints each collect_children; stops on stdin EOF."""
    def stop(signum, frame):
        raise SystemExit(0)

    # shutdown() would wait for serve_forever's next poll tick (up to poll_interval):
    # interrupt its select with a signal to the main thread instead
    signal.signal(signal.SIGTERM, stop)
    main = threading.main_thread().ident

    def stop_on_stdin():
        sys.stdin.buffer.read()  # EOF (or everything) on stdin: stop
        signal.pthread_kill(main, signal.SIGTERM)

    try:
        with _Server(("127.0.0.1", 0), _Upper) as server:
            print(f"listening on tcp 127.0.0.1 {server.server_address[1]}", flush=True)
            threading.Thread(target=stop_on_stdin, daemon=True).start()
            server.serve_forever(poll_interval=poll_interval)
    except SystemExit:
        pass  # the with-block's server_close() waited for the children (block_on_close)
    return 0
