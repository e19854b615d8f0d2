"""A real headless Chromium looking at a local HTML file, through the DevTools protocol (aiohttp's WebSocket
client, already installed with Ray): console errors, page exceptions, every image's load state, a screenshot.

Chromium listens on 127.0.0.1 only (``--remote-debugging-port=0``: a free port, read back from the profile's
``DevToolsActivePort`` file); the page is a ``file://`` URL, so nothing leaves the machine.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """A Chromium executable on PATH (or ``$CHROMIUM``), None when there is none."""
    candidates = [os.environ.get("CHROMIUM", "")] + list(BROWSERS)
    return next((shutil.which(c) for c in candidates if c and shutil.which(c)), None)


@dataclass
class Visit:
    """What the browser saw."""

    errors: list[str] = field(default_factory=list)  # console errors, uncaught exceptions, failed loads
    images: list[dict] = field(default_factory=list)  # {alt, complete, width, height} per <img>
    title: str = ""
    size: tuple[int, int] = (0, 0)  # page width, height in CSS pixels


async def _visit(browser: str, url: str, screenshot: Path, width: int, timeout: float) -> Visit:
    import aiohttp

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = await asyncio.create_subprocess_exec(
            browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--mute-audio",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", f"--user-data-dir={profile}",
            f"--window-size={width},900", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + timeout
            while not (port_file.is_file() and port_file.read_text().strip()):
                if time.monotonic() > deadline or proc.returncode is not None:
                    raise RuntimeError(f"{browser} did not open its DevTools port")
                await asyncio.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
                    targets = await resp.json(content_type=None)
                page = next(t for t in targets if t.get("type") == "page")
                async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    return await asyncio.wait_for(_drive(ws, url, screenshot, width), timeout)
        finally:
            await _close(proc)


async def _close(proc) -> None:
    """End the browser and its helper processes (its own session: the group is ours alone), then reap it."""
    if proc.returncode is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 10)
        except (ProcessLookupError, asyncio.TimeoutError):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()


async def _drive(ws, url: str, screenshot: Path, width: int) -> Visit:
    visit = Visit()
    ids = iter(range(1, 10**6))
    loaded = asyncio.Event()
    replies: dict[int, asyncio.Future] = {}

    async def reader() -> None:
        async for msg in ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in replies:
                replies.pop(data["id"]).set_result(data)
                continue
            method, params = data.get("method"), data.get("params", {})
            if method == "Page.loadEventFired":
                loaded.set()
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                visit.errors.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                           for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                visit.errors.append("exception: " + params["exceptionDetails"].get("text", ""))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                visit.errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")

    async def call(method: str, **params) -> dict:
        i = next(ids)
        replies[i] = asyncio.get_running_loop().create_future()
        await ws.send_str(json.dumps({"id": i, "method": method, "params": params}))
        reply = await replies[i]
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    task = asyncio.create_task(reader())
    try:
        for domain in ("Page", "Runtime", "Log"):
            await call(f"{domain}.enable")
        await call("Page.navigate", url=url)
        await loaded.wait()
        probe = ("JSON.stringify({title: document.title, images: Array.from(document.images).map(i => ({alt: i.alt, "
                 "complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))})")
        result = await call("Runtime.evaluate", expression=probe, returnByValue=True)
        seen = json.loads(result["result"]["value"])
        visit.title, visit.images = seen["title"], seen["images"]
        metrics = await call("Page.getLayoutMetrics")
        content = metrics.get("cssContentSize") or metrics["contentSize"]
        visit.size = (int(content["width"]), int(content["height"]))
        shot = await call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": max(width, visit.size[0]), "height": visit.size[1], "scale": 1})
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        await asyncio.sleep(0.2)  # late console events
    finally:
        task.cancel()
    return visit


def visit(browser: str, page: Path, screenshot: Path, width: int = 1400, timeout: float = 60.0) -> Visit:
    """Open ``page`` in headless ``browser``, wait for its load event, probe it and save a full-page screenshot."""
    return asyncio.run(_visit(browser, page.resolve().as_uri(), screenshot, width, timeout))
