"""A loopback TCP proxy that resets connections, with a fixed seed, for the retry tests.

Each chunk going either way may instead end the connection with a reset (RST on both sides):
  - `p_request`: a chunk from the client is dropped before the server sees it (the request
    certainly did not reach the server);
  - `p_response`: a chunk from the server is dropped after the server took the request and
    answered (the request ran; the client never hears of it).
Counts of each kind are kept in `resets`.
"""
import random
import select
import socket
import struct
import threading


def _reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class ResetProxy:
    def __init__(self, target_port, seed=1, p_request=0.0, p_response=0.0):
        self.target_port = target_port
        self.rng = random.Random(seed)
        self.rng_lock = threading.Lock()
        self.p_request = p_request
        self.p_response = p_response
        self.resets = {"request": 0, "response": 0}
        self.connections = 0
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/mcp"

    def _roll(self, p):
        with self.rng_lock:
            return self.rng.random() < p

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client):
        try:
            server = socket.create_connection(("127.0.0.1", self.target_port))
            server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            _reset(client)
            return
        ends = {client: server, server: client}
        try:
            while True:
                ready, _, _ = select.select(list(ends), [], [], 30)
                if not ready:
                    break
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        raise EOFError
                    kind = "request" if s is client else "response"
                    if self._roll(self.p_request if kind == "request" else self.p_response):
                        with self.rng_lock:
                            self.resets[kind] += 1
                        raise ConnectionResetError
                    ends[s].sendall(data)
        except (EOFError, OSError):
            pass
        _reset(client)
        _reset(server)

    def stop(self):
        self.stopped = True
        self.listener.close()
