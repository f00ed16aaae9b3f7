"""Headless Chromium driven over the DevTools protocol on a pipe, for the tests of the HTML pages."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The first Chromium (or Chrome) on PATH, or None."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def _fd_above(fd: int, lowest: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, lowest)
    os.close(fd)
    return moved


class HeadlessChromium:
    """Headless Chromium driven over the DevTools protocol on a pipe: load a page, run script in it, collect its problems.

    ``load`` returns what a person would notice in the console: uncaught exceptions, console
    errors, failed loads and blocked content, and any request that leaves the file (a page must
    be self-contained).
    """

    def __init__(self, executable: str, profile: Path):
        commands_read, self._commands = os.pipe()
        self._events, events_write = os.pipe()
        # the browser's ends above 9, so that the redirections below cannot overwrite one with the other
        commands_read, events_write = (_fd_above(fd, 10) for fd in (commands_read, events_write))
        options = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
                   "--hide-scrollbars", f"--user-data-dir={profile}", "about:blank"]
        # the protocol runs on the browser's fds 3 (commands in) and 4 (replies out)
        self.process = subprocess.Popen(["bash", "-c", f'exec "$0" "$@" 3<&{commands_read} 4>&{events_write}',
                                         executable, *options], pass_fds=(commands_read, events_write),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(events_write)
        self._buffer, self._next_id, self._pending = b"", 0, []
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def _message(self, timeout: float = 60) -> dict:
        while b"\0" not in self._buffer:
            if not select.select([self._events], [], [], timeout)[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._events, 1 << 20)
            if not chunk:
                raise EOFError("Chromium exited")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def _call(self, method: str, session: str | None = None, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params, **({"sessionId": session} if session else {})}
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self._pending.append(reply)

    def call(self, method: str, **params) -> dict:
        """A DevTools command in the page."""
        return self._call(method, self._session, **params)

    def load(self, path: Path, width: int = 1200) -> list[str]:
        """Open ``path`` at ``width`` CSS pixels, wait for its load event, and return the problems it showed."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=800, deviceScaleFactor=1, mobile=False)
        self._pending.clear()
        self.call("Page.navigate", url=path.resolve().as_uri())
        while not any(event.get("method") == "Page.loadEventFired" for event in self._pending):
            self._pending.append(self._message())
        self.evaluate("new Promise(done => setTimeout(done, 50))")  # late console messages arrive too
        problems = []
        for event in self._pending:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                problems.append(f"exception: {details.get('exception', {}).get('description', details['text'])}")
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning", "assert"):
                problems.append(f"console.{params['type']}: {[arg.get('value') for arg in params['args']]}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                problems.append(f"log: {params['entry']['text']}")
            elif method == "Network.requestWillBeSent" and not params["request"]["url"].startswith(("file:", "data:")):
                problems.append(f"request: {params['request']['url']}")
        return problems

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        """The whole page as PNG."""
        return base64.b64decode(self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"])

    def close(self) -> None:
        try:
            self._call("Browser.close")
        except (EOFError, OSError, TimeoutError):
            pass
        self.process.wait(30)
