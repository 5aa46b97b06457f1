"""The brief in a real browser: Debian chromium, headless, network off, via DevTools.

Opens the demo brief from a file URL and checks, through the Chrome DevTools Protocol,
that no console error or exception occurs, that no request leaves the file, that every
figure the page declares (``<meta name="oilimpact-figures">``) was drawn by plotly, and
that the event-study tables are there. A full-page screenshot is saved as
``brief.png`` next to the brief. Skipped when ``/usr/bin/chromium`` is absent.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (/usr/bin/chromium)"),
]

websockets = pytest.importorskip("websockets", reason="the DevTools client needs `websockets`")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    # networking off: every host resolves to nothing, every proxy request fails
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]


class _CDP:
    """A minimal Chrome DevTools Protocol client over one websocket (flattened sessions)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict] = []
        self.pending: dict[int, asyncio.Future] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            if "id" in msg and msg["id"] in self.pending:
                self.pending.pop(msg["id"]).set_result(msg)
            elif "method" in msg:
                self.events.append(msg)

    async def send(
        self, method: str, params: dict | None = None, session: str | None = None
    ) -> dict:
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        await self.ws.send(json.dumps(msg))
        reply = await asyncio.wait_for(fut, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def wait_for(self, method: str, timeout: float = 30.0) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for ev in self.events:
                if ev["method"] == method:
                    return ev
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no {method} within {timeout} s")


def _start_chromium(profile: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            *FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    end = time.monotonic() + 30
    assert proc.stderr is not None
    while time.monotonic() < end:
        line = proc.stderr.readline()
        m = re.search(r"DevTools listening on (ws://\S+)", line)
        if m:
            return proc, m.group(1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("chromium did not start its DevTools endpoint")


async def _inspect(ws_url: str, url: str, screenshot: Path) -> dict[str, Any]:
    async with websockets.connect(ws_url, max_size=None) as ws:
        cdp = _CDP(ws)
        target = await cdp.send("Target.createTarget", {"url": "about:blank"})
        attached = await cdp.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        s = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            await cdp.send(f"{domain}.enable", session=s)
        await cdp.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 4000, "deviceScaleFactor": 1, "mobile": False},
            session=s,
        )
        await cdp.send("Page.navigate", {"url": url}, session=s)
        await cdp.wait_for("Page.loadEventFired", timeout=60)
        declared = await _eval(
            cdp, s, "+document.querySelector('meta[name=oilimpact-figures]').content"
        )
        drawn = 0
        end = time.monotonic() + 60
        while time.monotonic() < end:
            drawn = await _eval(
                cdp,
                s,
                "document.querySelectorAll('.js-plotly-plot .main-svg').length > 0 ? "
                "Array.from(document.querySelectorAll('.plotly-graph-div')).filter("
                "d => d.classList.contains('js-plotly-plot') && d.querySelector('.main-svg')).length : 0",
            )
            if drawn >= declared:
                break
            await asyncio.sleep(0.2)
        info = {
            "declared": declared,
            "drawn": drawn,
            "graph_divs": await _eval(
                cdp, s, "document.querySelectorAll('.plotly-graph-div').length"
            ),
            "car_tables": await _eval(
                cdp, s, "document.querySelectorAll('table[data-table=car]').length"
            ),
            "car_rows": await _eval(
                cdp, s, "document.querySelectorAll('table[data-table=car] tbody tr').length"
            ),
            "title": await _eval(cdp, s, "document.title"),
            "alerts": await _eval(cdp, s, "typeof window.__alerted === 'undefined' ? 0 : 1"),
        }
        shot = await cdp.send(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False}, session=s
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        await asyncio.sleep(0.3)  # let late console events arrive
        info["events"] = list(cdp.events)
        cdp.reader.cancel()
        return info


async def _eval(cdp: _CDP, session: str, expr: str) -> Any:
    res = await cdp.send(
        "Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=session
    )
    if "exceptionDetails" in res:
        raise RuntimeError(f"{expr}: {res['exceptionDetails']}")
    return res["result"].get("value")


def _problems(events: list[dict]) -> dict[str, list]:
    console = [
        e["params"]
        for e in events
        if e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert")
    ]
    exceptions = [e["params"] for e in events if e["method"] == "Runtime.exceptionThrown"]
    log_errors = [
        e["params"]["entry"]
        for e in events
        if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
    ]
    requests = [
        e["params"]["request"]["url"]
        for e in events
        if e["method"] == "Network.requestWillBeSent"
        and not e["params"]["request"]["url"].startswith(("file:", "data:", "blob:", "about:"))
    ]
    return {"console": console, "exceptions": exceptions, "log": log_errors, "requests": requests}


@pytest.fixture(scope="module")
def browser_run(demo_brief, tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc, ws_url = _start_chromium(profile)
    screenshot = demo_brief.paths.dir / "brief.png"
    try:
        info = asyncio.run(_inspect(ws_url, demo_brief.paths.html.as_uri(), screenshot))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    info["screenshot"] = screenshot
    return info


def test_no_console_errors_and_no_network(browser_run):
    problems = _problems(browser_run["events"])
    assert problems == {"console": [], "exceptions": [], "log": [], "requests": []}


def test_every_declared_figure_is_drawn(browser_run):
    assert browser_run["declared"] == browser_run["graph_divs"] == 6
    assert browser_run["drawn"] == browser_run["declared"]


def test_event_study_tables_present(browser_run):
    assert browser_run["car_tables"] >= 3
    assert browser_run["car_rows"] > 100
    assert browser_run["title"].startswith("SYNTHETIC")


def test_screenshot_saved_next_to_the_brief(browser_run):
    png = browser_run["screenshot"]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 4000)
