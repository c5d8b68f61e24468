"""A real webhook receiver on localhost, for the alerts OVNI sends (`OVNI_ALERT_WEBHOOK_URL`)."""

from __future__ import annotations

import http.server
import json
import threading
import time


class Receiver:
    """A webhook receiver on localhost that answers `status` after `delay` seconds and keeps the bodies."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status, self.delay, self.bodies = status, delay, []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bodies.append(json.loads(body))
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ovni"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
