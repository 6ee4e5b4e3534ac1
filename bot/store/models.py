"""The database: every fact the bot knows is a row here (the source of truth).

Times are stored as naive UTC datetimes (SQLite has no time zones); the services
convert to the configured zone for display.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    """Somebody the bot knows: from config, from /join, or who wrote to it."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Telegram user id
    name: Mapped[str | None] = mapped_column(String(50))  # as it appears on complaints
    department_key: Mapped[str | None] = mapped_column(ForeignKey("departments.key"))
    # The language to write in: config's, else the one chosen with /language, else Telegram's.
    language: Mapped[str | None] = mapped_column(String(10))  # config's [[members]] language
    chosen_language: Mapped[str | None] = mapped_column(String(10))  # /language
    telegram_language: Mapped[str | None] = mapped_column(String(16))
    telegram_name: Mapped[str | None] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # False until the user opens a private chat with the bot: Telegram forbids writing first.
    reachable: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime)  # the user blocked the bot
    # A text so long that Telegram split it (the first part refused as too long): when and
    # where it was sent, so that its tail, arriving a moment later, is not taken as an answer.
    split_text_at: Mapped[datetime | None] = mapped_column(DateTime)
    split_text_chat: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Department(Base):
    __tablename__ = "departments"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    head_user_id: Mapped[int | None] = mapped_column(BigInteger)
    # Rule 一.4: the vice-president over the department (agrees the combined opinion).
    vice_president_id: Mapped[int | None] = mapped_column(BigInteger)


class UserRole(Base):
    """A role beyond department membership (rules 一.4 and 三): "general_manager",
    "gm_assistant", "order_follower", "order_desk_assistant". Seeded from config."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(24), primary_key=True)


class ProcessedUpdate(Base):
    """Telegram update ids already handled: after a crash Telegram sends the last
    unconfirmed updates again, and each must act only once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)


class Setting(Base):
    """Values set in chat that override config (e.g. the bound workgroup)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class JoinRequest(Base):
    __tablename__ = "join_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"))
    name: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending/approved/refused
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class PendingInput(Base):
    """The bot asked a user a question and waits for the typed answer.

    One in the private chat per user (e.g. the reason for 退回, or the name for /join), and
    one per complaint thread (the parts of a step begun there), so that beginning a step in
    one complaint leaves another complaint's open question alone. Kept in the database so
    that a restart does not forget the question.
    """

    __tablename__ = "pending_inputs"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The complaint whose thread the answer is typed in; 0 for the private chat.
    complaint_thread: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    purpose: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Draft(Base):
    """A complaint form in progress: the conversation's state lives here, not in memory."""

    __tablename__ = "drafts"
    # Never reuse an id: buttons of a cancelled form carry its id and must stay stale.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy reads it)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    photos: Mapped[list[Any]] = mapped_column(default=list)  # Telegram file_ids
    # The field being asked now; None means the summary is shown.
    current_field: Mapped[str | None] = mapped_column(String(32))
    # Fields still to ask, in order (after a paste: only the missing or invalid ones).
    queue: Mapped[list[Any]] = mapped_column(default=list)
    # "guided": asked one by one; "edit": one field from the summary; "paste": filling gaps.
    mode: Mapped[str] = mapped_column(String(16), default="guided")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class NumberCounter(Base):
    """The running number per kind and year (P-2026-0001, P-2026-0002, …)."""

    __tablename__ = "number_counters"

    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)  # given on approval
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    complainant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    department_key: Mapped[str | None] = mapped_column(ForeignKey("departments.key"))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    photos: Mapped[list[Any]] = mapped_column(default=list)
    # A compensation / return / exchange case (rule 一.4).
    is_crx: Mapped[bool] = mapped_column(Boolean, default=False)
    filed_at: Mapped[datetime] = mapped_column(DateTime)  # 投訴時間
    approver_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # Where it lives in the workgroup.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(Integer)  # forum topic, if the group has topics
    card_message_id: Mapped[int | None] = mapped_column(Integer)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # How many times the complainant has appealed (rule 一.6); 0 before any appeal.
    round: Mapped[int] = mapped_column(Integer, default=0)
    # A digest of the card as last drawn in the group: a redraw that changes nothing is skipped.
    card_hash: Mapped[str | None] = mapped_column(String(64))
    # 輕微 or 重大 (bot/domain/severity.py); for 重大 the ground (a–d), and for either the
    # last change: its note, who and when.
    severity: Mapped[str] = mapped_column(String(8), default="minor", server_default="minor")
    severity_ground: Mapped[str | None] = mapped_column(String(1))
    severity_note: Mapped[str | None] = mapped_column(Text)
    severity_by: Mapped[int | None] = mapped_column(BigInteger)
    severity_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A major complaint is resolved with the customer by then (ch. 9: 12 hours).
    major_due_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_complaints_thread", "chat_id", "thread_id"),
                      Index("ix_complaints_card", "chat_id", "card_message_id"))


class StepRecord(Base):
    """A workflow step of a posted complaint: who must do it, and who did it when."""

    __tablename__ = "complaint_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    step_key: Mapped[str] = mapped_column(String(32))
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"))
    round: Mapped[int] = mapped_column(Integer, default=0)  # the appeal round it belongs to
    started_at: Mapped[datetime] = mapped_column(DateTime)  # the deadline counts from here
    due_at: Mapped[datetime | None] = mapped_column(DateTime)  # fixed when the clock starts
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("complaint_id", "step_key", "department_key", "round"),
                      Index("ix_steps_open", "department_key", "done_at"))


class DeadlineEvent(Base):
    """A moment a step's deadline acts: a warning before it, or the breach itself.

    Rows, not timers: the scheduler arms in-memory jobs from them. Each is claimed once
    (fired_at set by a conditional update) whatever crashes or extra processes there are.
    """

    __tablename__ = "deadline_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The complaint's step, or else the chain's step (rules 一.4 and 三) it belongs to.
    step_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_steps.id"))
    chain_step_id: Mapped[int | None] = mapped_column(
        ForeignKey("chain_steps.id", name="fk_deadline_events_chain_step"))
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    # "warning" | "breach"; chain steps that start later (the next morning) also "start".
    # The complaint's own clocks (ch. 9, neither step nor chain step): "major" (open 10 days:
    # it becomes 重大), "resolve" (a major one's resolution: warnings, before_seconds > 0,
    # and the deadline itself, 0) and "feedback" (24 hours after filing).
    kind: Mapped[str] = mapped_column(String(8))
    before_seconds: Mapped[int] = mapped_column(Integer, default=0)  # warnings: how long before due
    due_at: Mapped[datetime] = mapped_column(DateTime)
    fired_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)  # the step was met first

    __table_args__ = (UniqueConstraint("step_id", "kind", "before_seconds"),
                      UniqueConstraint("chain_step_id", "kind", "before_seconds",
                                       name="uq_deadline_events_chain_step"),
                      Index("ix_deadline_events_pending", "fired_at", "cancelled_at", "due_at"))


class Fine(Base):
    """Rule 一.5: 50 yuan per missed 2-hour reply, charged to the department's head, kept
    by HR in the fruit fund (水果基金). Never deleted: waiving or paying changes its status."""

    __tablename__ = "fines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    # What was missed, once each: a step's reply (rule 一.5), or a follow-up visit when
    # [followup] fine is set.
    step_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_steps.id"), unique=True)
    follow_up_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_ups.id", name="fk_fines_follow_up"), unique=True)
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"))
    head_user_id: Mapped[int | None] = mapped_column(BigInteger)  # the head at that moment
    head_name: Mapped[str | None] = mapped_column(String(50))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8), default="levied")  # levied / waived / paid
    levied_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    changed_by: Mapped[int | None] = mapped_column(BigInteger)
    changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(Text)  # why it was waived


class FollowUp(Base):
    """A follow-up visit (回訪, ch. 9): one per closing of a complaint (its round), due
    within [followup] within_hours; the answers fill in as the visitor gives them."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    visitor_id: Mapped[int | None] = mapped_column(BigInteger)  # None: nobody set up; HR does it
    visitor_department_key: Mapped[str | None] = mapped_column(ForeignKey("departments.key"))
    severity: Mapped[str] = mapped_column(String(8))  # the complaint's when it closed
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    method: Mapped[str | None] = mapped_column(String(8))
    satisfaction: Mapped[str | None] = mapped_column(String(8))
    words: Mapped[str | None] = mapped_column(Text)
    more_needed: Mapped[bool | None] = mapped_column(Boolean)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by: Mapped[int | None] = mapped_column(BigInteger)
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime)  # missed its deadline
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime)  # into a new round
    kept_closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # … or decided not to

    __table_args__ = (UniqueConstraint("complaint_id", "round"),)


class Sheet(Base):
    """Rule 一.4: one day's 質量投訴處理流程表 — its rows are ChainItems with sheet_id set."""

    __tablename__ = "sheets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    compiled_at: Mapped[datetime] = mapped_column(DateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_by: Mapped[int | None] = mapped_column(BigInteger)


class ChainItem(Base):
    """One run of a chain (bot/domain/chains.py): a row of the daily sheet, or a
    return-freight slip. Its steps are ChainStepRecords; nothing here is ever deleted."""

    __tablename__ = "chain_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain: Mapped[str] = mapped_column(String(16))  # "sheet" | "freight"
    number: Mapped[str | None] = mapped_column(String(20), unique=True)  # freight: F-2026-0001
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("sheets.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open / done / withdrawn
    # Freight: {"amount_cents", "carrier", "waybill", "bearer"} as written on the slip.
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    opened_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)


class ChainStepRecord(Base):
    """A chain step owed by someone: its deadline, and once done the signature — who,
    in which role at that moment, when, and what they handed in. A done step is never
    changed; a rejection opens the step it goes back to again, in the next round."""

    __tablename__ = "chain_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("chain_items.id"), index=True)
    step_key: Mapped[str] = mapped_column(String(32))
    department_key: Mapped[str] = mapped_column(String(32), default="")  # "" when not per department
    round: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    announced_at: Mapped[datetime | None] = mapped_column(DateTime)  # its actors were told
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by: Mapped[int | None] = mapped_column(BigInteger)
    done_role: Mapped[str | None] = mapped_column(String(60))  # the role, as it was then
    done_name: Mapped[str | None] = mapped_column(String(50))  # the name, as it was then
    # {"text": …} | {"amount_cents": …} | {"decision": "approve"|"amend"|"reject", "text": …}
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (UniqueConstraint("item_id", "step_key", "department_key", "round"),)


class JobRun(Base):
    """A scheduled report that must go out once: 'daily:2026-11-27', 'monthly:2026-11'."""

    __tablename__ = "job_runs"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)


class Answer(Base):
    """What a department handed in for a step: process information, an assessment and
    handling opinion, a handling plan, HR's words to the complainant, an appeal's answer."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    step_key: Mapped[str] = mapped_column(String(32))
    department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"))
    round: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int] = mapped_column(BigInteger)
    # {"text": …} or {"assessment": …, "opinion": …}
    parts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # [{"type": "photo" | "document", "file_id": …}]
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Comment(Base):
    """Anything else said in a complaint's thread: kept, never counted as an answer."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    author_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    message_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ThreadMessage(Base):
    """Which complaint a workgroup message belongs to, so that in a group without topics
    a reply to any of them lands in the right thread."""

    __tablename__ = "thread_messages"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))


class Escalation(Base):
    """An appeal (rule 一.6): why, and to which body."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    body_department_key: Mapped[str] = mapped_column(ForeignKey("departments.key"))
    raised_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEvent(Base):
    """Who did what, when: written by every state change, never edited."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(DateTime)


class OutboxMessage(Base):
    """Something to send or do in Telegram, written in the transaction that caused it.

    The sender (bot/sender/) works through them; `kind` says what to do: "message"
    (text with an optional keyboard), "document" (a file), "edit_keyboard", "post_card"
    (create the complaint's topic if needed and post its card), "post_photos",
    "refresh_card" and "refresh_topic" (redraw the card or the topic title from the
    complaint as it is). `payload` is the kind's model in bot.outbox (MessagePayload,
    DocumentPayload, KeyboardEditPayload), kept as JSON; complaint actions have none.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(Integer)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending → sending (claimed by one sender until lease_until) → sent; or held / failed
    status: Mapped[str] = mapped_column(String(12), default="pending")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    # The process sending it (bot.processes): a row of a process known to be dead is sent
    # again at once rather than when its lease runs out.
    owner: Mapped[str | None] = mapped_column(String(120))
    # What its buttons act on (e.g. "fine:17"): once that is done, the buttons of every
    # copy sent are taken away (bot.outbox.retire_buttons).
    subject: Mapped[str | None] = mapped_column(String(40), index=True)
    sent_message_id: Mapped[int | None] = mapped_column(Integer)  # the message it became
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_outbox_pending", "status", "id"),)


class TypicalCase(Base):
    """A closed complaint in the case library (典型案例, ch. 9): the lesson and tags."""

    __tablename__ = "typical_cases"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    lesson: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    marked_by: Mapped[int] = mapped_column(BigInteger)
    marked_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class PurgedComplaint(Base):
    """What `complaint-bot purge` removed (ch. 9 keeps records two years): one row each."""

    __tablename__ = "purged_complaints"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    filed_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    purged_at: Mapped[datetime] = mapped_column(DateTime)
    fines: Mapped[int] = mapped_column(Integer)  # how many fines went with it
    fines_cents: Mapped[int] = mapped_column(Integer)
