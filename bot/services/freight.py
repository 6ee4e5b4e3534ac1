"""Rule 三: return-freight expense slips.

`/freight <complaint>` by a customer-service order follower asks, one message at a time,
for the amount (CNY, positive, at most two decimals), the carrier, the waybill number and
the department bearing the freight; the slip then runs the FREIGHT chain (bearer's head →
order desk manager or assistant → follower collects the cash → finance pays and books,
HR is told → HR follows up → finance closes). The questions live in a PendingInput row,
so a restart between two answers loses nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.domain.chains import FREIGHT, parse_amount, to_cents
from bot.domain.periods import PeriodError, parse_period
from bot.domain.validation import Invalid, clean_text
from bot.services.audit import record
from bot.services.chains import CHAIN_INPUT, FREIGHT_FORM, Chains, ChainView
from bot.services.complaints import next_number
from bot.services.context import AppContext, Refused
from bot.services.conversation import PRIVATE_CHAT, drop_pending, set_pending
from bot.services.people import holds_role, person
from bot.spreadsheets import table_columns, table_workbook
from bot.store.models import (
    ChainItem,
    ChainStepRecord,
    Complaint,
    Department,
    PendingInput,
)

SLIP_PREFIX = "F"  # F-2026-0001
CARRIER_MAX = 50
WITHDRAW_WORDS = ("cancel", "withdraw", "撤回", "取消")  # /freight cancel <slip> <reason>
WAYBILL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,39}$")


@dataclass
class SlipForm:
    """The next question of a slip being written, or the slip once opened."""

    stage: str  # "amount" | "carrier" | "waybill" | "bearer" | "opened"
    number: str  # the complaint's
    departments: list[tuple[str, str]] = field(default_factory=list)  # (key, name) to choose from
    slip: ChainView | None = None
    dropped: bool = False  # an unfinished slip or step answer was dropped to start this one


class Freight:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.chains = Chains(ctx)

    async def start(self, actor_id: int, number: str) -> SlipForm:
        async with self.ctx.transaction() as session:
            if not await holds_role(session, actor_id, "order_follower"):
                raise Refused("errors.freight_followers_only")
            if self.ctx.settings.roles.finance is None:  # steps 4 to 6 would wait on nobody
                raise Refused("errors.freight_no_finance")
            complaint = await session.scalar(select(Complaint).where(
                Complaint.number == number.strip().upper()))
            if complaint is None or complaint.posted_at is None:
                raise Refused("errors.no_such_complaint", number=number)
            replaced = await set_pending(session, self.ctx, actor_id, FREIGHT_FORM,
                                         ref_id=complaint.id, data={"stage": "amount"})
            return SlipForm("amount", complaint.number or "",
                            dropped=replaced in (CHAIN_INPUT, FREIGHT_FORM))

    async def take_input(self, actor_id: int, pending: PendingInput, text: str) -> SlipForm:
        """The answer to the slip's current question; a bad one is refused and asked again."""
        async with self.ctx.transaction() as session:
            complaint = await session.get(Complaint, pending.ref_id)
            assert complaint is not None  # complaints are never deleted
            data: dict[str, Any] = dict(pending.data)
            stage = data.get("stage")
            if stage == "amount":
                amount = parse_amount(text)
                if isinstance(amount, Invalid):
                    raise Refused(f"errors.{amount.reason}", **amount.params)
                data.update(amount_cents=to_cents(amount), stage="carrier")
            elif stage == "carrier":
                carrier = clean_text(text)
                if not carrier or len(carrier) > CARRIER_MAX or "\n" in carrier:
                    raise Refused("errors.freight_carrier", max=CARRIER_MAX)
                data.update(carrier=carrier, stage="waybill")
            elif stage == "waybill":
                waybill = clean_text(text).replace(" ", "")
                if not WAYBILL.match(waybill):
                    raise Refused("errors.freight_waybill")
                data.update(waybill=waybill, stage="bearer")
            else:
                raise Refused("errors.freight_choose_bearer")
            row = await session.get(PendingInput, (actor_id, PRIVATE_CHAT))
            assert row is not None
            row.data = data
            return SlipForm(data["stage"], complaint.number or "",
                            await self._departments(session) if data["stage"] == "bearer" else [])

    async def question(self, pending: PendingInput) -> SlipForm:
        """The slip's current question, to ask it again (something other than text came)."""
        async with self.ctx.sessions() as session:
            complaint = await session.get(Complaint, pending.ref_id)
            assert complaint is not None  # complaints are never deleted
            stage = str(pending.data.get("stage") or "amount")
            return SlipForm(stage, complaint.number or "",
                            await self._departments(session) if stage == "bearer" else [])

    async def _departments(self, session: AsyncSession) -> list[tuple[str, str]]:
        rows = await session.scalars(select(Department).order_by(Department.key))
        return [(d.key, d.name) for d in rows]

    async def choose_bearer(self, actor_id: int, bearer: str) -> SlipForm:
        """fb:<department> — the department bearing the freight; the slip is opened."""
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            pending = await session.get(PendingInput, (actor_id, PRIVATE_CHAT))
            if pending is None or pending.purpose != FREIGHT_FORM \
                    or pending.data.get("stage") != "bearer":
                raise Refused("errors.stale_button")
            if not await holds_role(session, actor_id, "order_follower"):
                raise Refused("errors.freight_followers_only")
            if await session.get(Department, bearer) is None:
                raise Refused("errors.stale_button")
            complaint = await session.get(Complaint, pending.ref_id)
            assert complaint is not None
            item = ChainItem(chain=FREIGHT.key, number=await next_number(
                session, SLIP_PREFIX, now.astimezone(self.ctx.settings.zone).year),
                             complaint_id=complaint.id, status="open", opened_by=actor_id,
                             data={"amount_cents": pending.data["amount_cents"],
                                   "carrier": pending.data["carrier"],
                                   "waybill": pending.data["waybill"], "bearer": bearer},
                             created_at=to_db(now))
            session.add(item)
            await session.flush()
            await drop_pending(session, actor_id, FREIGHT_FORM)
            record(session, now, complaint.id, actor_id, "freight_opened", item=item.id,
                   slip=item.number, department=bearer, amount_cents=item.data["amount_cents"])
            await self.chains.open(session, item, FREIGHT.steps[0], bearer, now, 0, now)
            return SlipForm("opened", complaint.number or "", slip=await self.chains.view(session, item))

    # --- /freight cancel <slip> <reason> --------------------------------------------------

    @staticmethod
    def is_withdrawal(args: list[str]) -> bool:
        return bool(args) and args[0].casefold() in WITHDRAW_WORDS

    async def withdraw(self, actor_id: int, args: list[str]) -> ChainView:
        """Strike out a slip opened by mistake (a wrong amount, the wrong case), with the
        reason, until the follower has collected the cash (FREIGHT.withdrawable_until)."""
        reason = self.chains.withdrawal_reason(args[2:])
        if not reason:
            raise Refused("errors.freight_cancel_usage")
        async with self.ctx.transaction() as session:
            item = await session.scalar(select(ChainItem).where(
                ChainItem.chain == FREIGHT.key, ChainItem.number == args[1].strip().upper()))
            if item is None:
                raise Refused("errors.no_such_slip", number=args[1])
            if not await self.chains.may_withdraw(session, item, actor_id):
                raise Refused("errors.freight_cancel_not_allowed")
            return await self.chains.withdraw(session, item, actor_id, reason, self.ctx.now())

    # --- /freight, /freight_xlsx ---------------------------------------------------------

    async def owed(self, actor_id: int) -> list[ChainView]:
        """Open slips with a step the caller may do now."""
        async with self.ctx.sessions() as session:
            now = to_db(self.ctx.now())
            found = await session.execute(
                select(ChainItem, ChainStepRecord)
                .join(ChainStepRecord, ChainStepRecord.item_id == ChainItem.id)
                .where(ChainItem.chain == FREIGHT.key, ChainItem.status == "open",
                       ChainStepRecord.done_at.is_(None), ChainStepRecord.started_at <= now)
                .order_by(ChainItem.id))
            views = []
            for item, row in found:
                if any(uid == actor_id for uid, _ in await self.chains.actors(session, item, row)):
                    views.append(await self.chains.view(session, item))
            return views

    async def may_export(self, session: AsyncSession, actor_id: int) -> bool:
        actor = await person(session, self.ctx, actor_id)
        if actor is None:
            return False
        return actor.is_admin or (actor.department_key is not None and actor.department_key in (
            self.ctx.settings.routing.service_intake, self.ctx.settings.roles.finance))

    async def workbook(self, actor_id: int, args: list[str]) -> tuple[str, bytes, int]:
        """Every slip opened in the month (default: this one), with its steps and times."""
        async with self.ctx.sessions() as session:
            if not await self.may_export(session, actor_id):
                raise Refused("errors.freight_export_not_allowed")
            if len(args) > 1:
                raise Refused("errors.freight_xlsx_usage")
            try:
                period = parse_period(args[0] if args else "month", self.ctx.now(),
                                      self.ctx.settings.zone)
            except PeriodError:
                raise Refused("errors.freight_xlsx_usage") from None
            actor = await person(session, self.ctx, actor_id)
            assert actor is not None
            items = await session.scalars(select(ChainItem).where(
                ChainItem.chain == FREIGHT.key, ChainItem.created_at >= to_db(period.start),
                ChainItem.created_at < to_db(period.end)).order_by(ChainItem.id))
            lang, texts = actor.language, self.ctx.texts
            rows = []
            for item in items:
                view = await self.chains.view(session, item)
                opener = await person(session, self.ctx, item.opened_by) if item.opened_by else None
                signatures = ["\n".join(texts.plain(lang, "reports.signature", step=s)
                                        for s in view.steps if s.key == step.key and s.done)
                              for step in FREIGHT.steps]
                rows.append([view.number, view.complaint_number,
                             to_decimal(item.data["amount_cents"]), view.data["carrier"],
                             view.data["waybill"], view.data["bearer_name"],
                             opener.display_name if opener else "", self.chains.local(item.created_at),
                             *signatures, texts.plain(lang, "reports.chain_status", item=view)])
            label = self._label(period.start, period.end, period.key)
            data = table_workbook(texts.plain(lang, "reports.freight_sheet_name"),
                                  texts.plain(lang, "reports.freight_title", period=label),
                                  table_columns(texts, lang, "freight_columns"), rows)
            return f"freight-{label}.xlsx", data, len(rows)

    def _label(self, start: datetime, end: datetime, key: str) -> str:
        """'2026-11' for a month, '2026-11-23..2026-11-29' for other spans, for file names."""
        zone = self.ctx.settings.zone
        first, last = start.astimezone(zone).date(), (end - timedelta(seconds=1)).astimezone(zone).date()
        if key == "month" or re.fullmatch(r"\d{4}-\d{2}", key):
            return first.strftime("%Y-%m")
        return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


def to_decimal(cents: int) -> Decimal:
    return Decimal(cents) / 100
