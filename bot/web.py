"""The bot's web server, on `[web] listen`: `GET /healthz` (JSON; 200 when healthy, else
503), `GET /metrics` (Prometheus), in webhook mode the updates Telegram posts
(bot.inbox.Webhook), and with `[board] url` HR's board (a Telegram Mini App): the page at
`/board` and its data at `/board/api/…`, for whoever Telegram's signed launch data
(`Authorization: tma <initData>`, bot.webapp) says is asking. aiohttp, in the bot's own
event loop."""

from __future__ import annotations

import base64
import logging
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.services.board import Board, Viewer
from bot.services.context import AppContext, Refused
from bot.services.health import Health
from bot.texts import language_from_telegram
from bot.webapp import InitDataError, verify

if TYPE_CHECKING:  # (aiohttp is imported when the server starts: polling needs no server)
    from aiohttp import web

    from bot.inbox import Webhook

log = logging.getLogger(__name__)

# A stopping process finishes the requests it has (each one update's transaction) this long.
SHUTDOWN_SECONDS = 5.0
STATIC = Path(__file__).parent / "static"
# The board's page runs only its own script (no inline one) and shows only its own images.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
                               "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
                               "frame-ancestors https://web.telegram.org https://*.telegram.org",
    "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


class WebServer:
    def __init__(self, ctx: AppContext, webhook: Webhook | None = None) -> None:
        self.ctx = ctx
        self.webhook = webhook
        self._runner: web.AppRunner | None = None
        self.port: int | None = None  # the port it listens on (given 0: the one it got)

    async def _healthz(self, _request: web.Request) -> web.Response:
        from aiohttp import web

        facts = await Health(self.ctx).facts()
        return web.json_response(facts.as_json(), status=200 if facts.healthy else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        from aiohttp import web
        from prometheus_client import CONTENT_TYPE_LATEST

        await Health(self.ctx).facts()  # (sets the outbox gauge)
        return web.Response(body=self.ctx.metrics.exposition(),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    # --- HR's board ---------------------------------------------------------------------

    def _board_base(self) -> str:
        """The board's path: that of its public address ([board] url)."""
        return urlsplit(self.ctx.settings.board.url).path.rstrip("/")

    async def _board_page(self, _request: web.Request) -> web.Response:
        from aiohttp import web

        page = (STATIC / "board.html").read_text(encoding="utf-8")
        return web.Response(text=page.replace("__APP_JS__", f"{self._board_base()}/app.js"),
                            content_type="text/html", headers=PAGE_HEADERS)

    async def _board_script(self, _request: web.Request) -> web.Response:
        from aiohttp import web

        return web.Response(text=(STATIC / "board.js").read_text(encoding="utf-8"),
                            content_type="text/javascript", headers=PAGE_HEADERS)

    async def _signed_in(self, request: web.Request) -> Viewer | web.Response:
        """Who is asking, from Telegram's signed launch data; else the 401/403 to answer."""
        from aiohttp import web

        settings = self.ctx.settings
        scheme, _, init_data = request.headers.get("Authorization", "").partition(" ")
        try:
            if scheme != "tma":
                raise InitDataError("no Authorization: tma …")
            signed = verify(init_data, settings.token, self.ctx.now(),
                            timedelta(hours=settings.board.max_age_hours))
        except InitDataError as exc:
            log.info("board: refused a request (%s)", exc)
            words = self.ctx.texts.plain(settings.general.default_language, "board.not_signed_in")
            return web.json_response({"error": words}, status=401, headers=PAGE_HEADERS)
        try:
            return await Board(self.ctx).viewer(signed.user_id)
        except Refused as refused:
            lang = language_from_telegram(signed.language_code, settings.general.default_language)
            words = self.ctx.texts.plain(lang, refused.template, **refused.params)
            return web.json_response({"error": words}, status=403, headers=PAGE_HEADERS)

    async def _board_view(self, request: web.Request) -> web.Response:
        from aiohttp import web

        viewer = await self._signed_in(request)
        if isinstance(viewer, web.Response):
            return viewer
        view = await Board(self.ctx).view(viewer, request.query.get("period", "month"),
                                          request.query.get("department", ""))
        return web.json_response(asdict(view), headers=PAGE_HEADERS)

    async def _board_charts(self, request: web.Request) -> web.Response:
        from aiohttp import web

        viewer = await self._signed_in(request)
        if isinstance(viewer, web.Response):
            return viewer
        try:
            month, images = await Board(self.ctx).charts(viewer, request.query.get("month"))
        except Refused as refused:  # not theirs to see (403), or a month it cannot be (400)
            words = self.ctx.texts.plain(viewer.person.language, refused.template, **refused.params)
            status = 403 if refused.template == "errors.report_not_allowed" else 400
            return web.json_response({"error": words}, status=status, headers=PAGE_HEADERS)
        return web.json_response({"month": month, "images": [
            base64.b64encode(image).decode() for image in images]}, headers=PAGE_HEADERS)

    async def start(self, listen: str) -> None:
        from aiohttp import web

        host, _, port = listen.rpartition(":")
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        if self.webhook is not None:
            app.router.add_post(self.webhook.path, self.webhook.receive)
        if self.ctx.settings.board.url:  # at the path of its public address
            base = self._board_base()
            app.router.add_get(base, self._board_page)
            app.router.add_get(f"{base}/app.js", self._board_script)
            app.router.add_get(f"{base}/api/view", self._board_view)
            app.router.add_get(f"{base}/api/charts", self._board_charts)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, int(port))
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
