"""A fake Gemini REST endpoint on 127.0.0.1 (standard library only): the network edge the real
google-genai client talks to in tests, through GOOGLE_GEMINI_BASE_URL.

It records every request and answers from a script: queued (status, body) pairs first, then the
`answer` function (default: a fixed text). Bodies follow the REST shape google-genai 3.x parses.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def system(self) -> str:
        parts = self.body.get("systemInstruction", {}).get("parts", [])
        return "\n".join(p.get("text", "") for p in parts)

    @property
    def prompt(self) -> str:
        return "\n".join(
            p.get("text", "") for c in self.body.get("contents", []) for p in c.get("parts", [])
        )

    @property
    def everything(self) -> str:
        return json.dumps(self.body, ensure_ascii=False)


def text_response(text: str, prompt_tokens: int = 7, output_tokens: int = 5) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "fake",
    }


def error_response(code: int, status: str, message: str = "scripted failure") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


class FakeGemini:
    def __init__(self, answer: Callable[[Recorded], str] | None = None) -> None:
        self.requests: list[Recorded] = []
        self.script: list[tuple[int, dict[str, Any]]] = []
        self.answer = answer or (lambda _: "Hello from fake Gemini")
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every answer of an otherwise instant model.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload = outer._respond(
                    Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def _respond(self, recorded: Recorded) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(recorded)
            if self.script:
                return self.script.pop(0)
        return 200, text_response(self.answer(recorded))

    def fail_next(self, *statuses: int) -> None:
        names = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID"}
        with self._lock:
            for code in statuses:
                self.script.append((code, error_response(code, names.get(code, "ERROR"))))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)
