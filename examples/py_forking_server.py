#!/usr/bin/python3
"""Serve HTTP from a forking server (one child process per request) on
127.0.0.1 and fetch three pages from it in the same program."""

import http.server
import signal
import socketserver
import sys
import threading
import urllib.request


class Server(socketserver.ForkingMixIn, http.server.HTTPServer):
    def server_bind(self):
        # HTTPServer.server_bind calls socket.getfqdn(), which can send a
        # reverse DNS query. This program talks to 127.0.0.1 only.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        number = self.path.lstrip("/")
        if not number.isdigit():
            self.send_error(404, "expected a path of the form /N")
            return
        body = f"hello {int(number)}".encode("ascii")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def main():
    signal.alarm(20)
    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # An empty ProxyHandler ignores http_proxy, so requests stay local.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        for number in range(1, 4):
            url = f"http://127.0.0.1:{port}/{number}"
            with opener.open(url, timeout=10) as response:
                print(response.read().decode("ascii"), flush=True)
    finally:
        server.shutdown()
        thread.join()
        # block_on_close is True, so this also waits for handler children.
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
