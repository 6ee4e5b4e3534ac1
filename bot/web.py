"""The bot's web server, on `[web] listen`: `GET /healthz` (JSON; 200 when healthy, else
503), `GET /metrics` (Prometheus) and, in webhook mode, the updates Telegram posts
(bot.inbox.Webhook). aiohttp, in the bot's own event loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.context import AppContext
from bot.services.health import Health

if TYPE_CHECKING:  # (aiohttp is imported when the server starts: most bots run without it)
    from aiohttp import web

    from bot.inbox import Webhook

# A stopping process finishes the requests it has (each one update's transaction) this long.
SHUTDOWN_SECONDS = 5.0


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

    async def start(self, listen: str) -> None:
        from aiohttp import web

        host, _, port = listen.rpartition(":")
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        if self.webhook is not None:
            app.router.add_post(self.webhook.path, self.webhook.receive)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, int(port))
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
