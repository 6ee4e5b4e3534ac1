"""config.toml: what the admin sets, validated at start-up.

A wrong or missing key stops the bot with the key's name and what is expected
(`ConfigError`), never with a traceback. The token is read from the environment
(COMPLAINT_BOT_TOKEN) so that the file can be shared; so may the database URL be
(COMPLAINT_BOT_DATABASE_URL).
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.domain.followup import Visitor

log = logging.getLogger(__name__)

TOKEN_ENV = "COMPLAINT_BOT_TOKEN"
# The database URL may come from the environment too (a PostgreSQL password kept out of the
# file, as deploy/compose.yaml does); it replaces [database] url.
DATABASE_URL_ENV = "COMPLAINT_BOT_DATABASE_URL"
LANGUAGES = ("zh-Hant", "zh-Hans", "en")


class ConfigError(Exception):
    """A configuration problem explained in one or more plain sentences."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def https_address(value: str, refusal: str, path_name: str = "telegram") -> str:
    """An https:// address with a path of its own (the bot's web server serves that path),
    or "" (off)."""
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or parts.path.strip("/") == "" \
            or parts.path.endswith("/"):
        raise ValueError(f"{refusal} an https:// address with a path and no / at its end, "
                         f"e.g. \"https://bot.example.com/{path_name}\"")
    return value


class TelegramSettings(_Strict):
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # Seconds a getUpdates long poll waits; short in tests.
    poll_timeout: float = Field(default=10.0, gt=0)
    # Telegram's flood limits, kept by the bot: messages per second overall and per minute
    # to one group. Lower them if Telegram answers "Too Many Requests"; never raise them
    # against the real Telegram (tests against the fake server do).
    messages_per_second: float = Field(default=30, gt=0)
    group_messages_per_minute: float = Field(default=20, gt=0)
    # One private chat: about one message a second, with short bursts (Telegram's FAQ).
    private_messages_per_second: float = Field(default=1.0, gt=0)
    private_burst: int = Field(default=3, ge=1)
    # How updates arrive: "polling" (getUpdates, the default: nothing to set up) or "webhook"
    # (Telegram posts each one to webhook_url, an HTTPS address whose proxy passes it to
    # [web] listen; several bot processes may serve it, on one PostgreSQL database).
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    # Telegram sends it with every update and the bot refuses requests without it; empty:
    # derived from the token (the same in every process of one bot).
    webhook_secret: str = ""
    # Connections Telegram may keep open at once to deliver updates (Telegram: 1-100).
    webhook_connections: int = Field(default=40, ge=1, le=100)

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str) -> str:
        return https_address(value, "telegram.webhook_url: Telegram posts only to")

    @field_validator("webhook_secret")
    @classmethod
    def _secret_chars(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("telegram.webhook_secret: 1-256 characters, only A-Z, a-z, 0-9, _ and -")
        return value


class DatabaseSettings(_Strict):
    url: str = "sqlite+aiosqlite:///data/complaints.db"


class GeneralSettings(_Strict):
    timezone: str = "Asia/Shanghai"
    default_language: str = "zh-Hant"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}; use an IANA name like Asia/Shanghai") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value


class WorkgroupSettings(_Strict):
    # The company workgroup (輝煌同仁群). Optional: an admin can bind it with /bind in the group.
    chat_id: int | None = None


class Department(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    name: str = Field(min_length=1, max_length=50)
    head: int | None = None
    members: list[int] = []
    # The next management level up (a department key): where its answers can be appealed.
    superior: str | None = None
    # Rule 一.4: the vice-president over this department (a user id), who agrees the combined
    # opinion for its staff's compensation / return / exchange cases. Unset: the GM does.
    vice_president: int | None = None


class Member(_Strict):
    id: int
    name: str = Field(min_length=1, max_length=50)
    language: str | None = None

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value


class Routing(_Strict):
    # Rule 一.2: the order desk (打單部) takes in product complaints.
    product_intake: str = "order_desk"
    # Rule 一.3: HR (人力資源部) takes in service complaints.
    service_intake: str = "hr"
    # Rule 一.2: production, purchasing and logistics investigate product complaints.
    product_investigators: list[str] = ["production", "purchasing", "logistics"]
    # Rule 一.6: besides the next level up, an unsatisfied complainant may appeal to these.
    escalation_bodies: list[str] = ["inspection", "administration"]


class CalendarSettings(_Strict):
    """Deadlines run in working time unless mode is "24x7"."""

    mode: str = Field(default="working", pattern="^(working|24x7)$")
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    lunch: tuple[time, time] | None = None  # e.g. ["12:00", "13:00"]
    # ISO weekdays that are working days (1 = Monday), for days China's calendar doesn't decide.
    weekdays: list[int] = [1, 2, 3, 4, 5]
    # China's official public holidays and make-up workdays (the holidays package).
    official_holidays: bool = True

    @field_validator("weekdays")
    @classmethod
    def _iso_weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(not 1 <= d <= 7 for d in value):
            raise ValueError("list the working weekdays as numbers 1 (Monday) to 7 (Sunday)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> CalendarSettings:
        if self.day_start >= self.day_end:
            raise ValueError("day_start must be before day_end")
        if self.lunch and not (self.day_start < self.lunch[0] < self.lunch[1] < self.day_end):
            raise ValueError("lunch must lie inside the working day, start before end")
        return self


class DeadlineOverride(_Strict):
    """One step's deadline; any key left out keeps the rule book's default."""

    minutes: float | None = Field(default=None, gt=0)
    warn_before: list[float] | None = None  # minutes before the deadline
    fines: bool | None = None

    @field_validator("warn_before")
    @classmethod
    def _positive(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(v <= 0 for v in value):
            raise ValueError("warnings are minutes before the deadline, each above 0")
        return value


class RoleSettings(_Strict):
    """People with a role in rules 一.4 and 三 beyond department membership (user ids)."""

    general_manager: int | None = None  # 總經理
    gm_assistants: list[int] = []  # 總經理助理: may sign the GM's opinion (rule 一.4)
    order_followers: list[int] = []  # 客服跟單員: write return-freight slips (rule 三)
    order_desk_assistants: list[int] = []  # 打單部助理: sign slips besides the desk's head
    finance: str | None = None  # the finance department's key (財務部)

    def holders(self) -> list[tuple[str, str, int]]:
        """(setting, role as the database records it, user id) for each person named here."""
        named = (("general_manager", "general_manager",
                  [self.general_manager] if self.general_manager else []),
                 ("gm_assistants", "gm_assistant", self.gm_assistants),
                 ("order_followers", "order_follower", self.order_followers),
                 ("order_desk_assistants", "order_desk_assistant", self.order_desk_assistants))
        return [(setting, role, uid) for setting, role, uids in named for uid in uids]


class SheetSettings(_Strict):
    """Rule 一.4: the daily 質量投訴處理流程表 of compensation / return / exchange cases."""

    enabled: bool = True
    compile_at: time = time(17, 30)  # before the end of the working day, on working days
    morning_at: time = time(9, 0)  # the next working morning it goes to the vice-president


class FineSettings(_Strict):
    # Rule 一.5: 50 yuan per occurrence, into the fruit fund.
    amount: Decimal = Field(default=Decimal("50"), gt=0, decimal_places=2)
    currency: str = "CNY"
    # Where HR's notices and summaries go: a chat id (HR's group, or a person). Default:
    # the head of the HR department (routing.service_intake) in private.
    hr_chat_id: int | None = None
    daily_summary_at: time = time(18, 0)  # on working days
    # On the first working day of each month: the fines XLSX to HR, and the analysis report
    # (ch. 9): the company's to HR, each department's part to its head.
    monthly_report: bool = True


class SeveritySettings(_Strict):
    """Major complaints (ch. 9): whose head is told at once that one was marked 重大."""

    # A department's key; none: the head of the department that took the complaint in
    # (the order desk for product complaints, HR for service ones).
    managing_department: str | None = None
    # Ground (d): still open this many days after it was posted, it becomes 重大 by itself.
    major_after_days: float = Field(default=10, gt=0)
    # A major complaint is resolved with the customer within this many clock hours, with
    # warnings this many minutes before; then the head and the vice-president are told.
    resolve_within_hours: float = Field(default=12, gt=0)
    resolve_warn_before: list[float] = [120, 30]

    @model_validator(mode="after")
    def _warnings_before_the_deadline(self) -> SeveritySettings:
        limit = self.resolve_within_hours * 60
        if any(not 0 < minutes < limit for minutes in self.resolve_warn_before):
            raise ValueError(f"severity.resolve_warn_before: minutes above 0 and below "
                             f"resolve_within_hours ({limit:g} minutes)")
        return self


class FeedbackSettings(_Strict):
    """Ch. 9: whoever filed a complaint hears back within this many clock hours of filing;
    if no answer has reached them by then, a progress note does (bot/services/feedback.py)."""

    within_hours: float = Field(default=24, gt=0)


class FollowUpSettings(_Strict):
    """Ch. 9: the follow-up visit (回訪) after a complaint closes (bot/services/followups.py)."""

    # Due this many clock hours after closing, with warnings this many minutes before; when
    # missed, the visitor's head and HR are told.
    within_hours: float = Field(default=24, gt=0)
    warn_before: list[float] = [120, 30]
    # Who visits: "accepter" (whoever pressed 受理), "managing_head" (the head of
    # [severity] managing_department, else of the intake department) or "intake_head".
    minor_visitor: Visitor = Visitor.ACCEPTER
    major_visitor: Visitor = Visitor.MANAGING_HEAD
    # A missed visit is fined this much (to the visitor's department, its head): 0, none.
    fine: Decimal = Field(default=Decimal("0"), ge=0, decimal_places=2)

    @model_validator(mode="after")
    def _warnings_before_the_deadline(self) -> FollowUpSettings:
        limit = self.within_hours * 60
        if any(not 0 < minutes < limit for minutes in self.warn_before):
            raise ValueError(f"followup.warn_before: minutes above 0 and below within_hours "
                             f"({limit:g} minutes)")
        return self


class RecordsSettings(_Strict):
    """Ch. 9: each complaint's record is its file, kept at least two years."""

    # Where each closed complaint's record goes as a file (a chat id: a group or a person);
    # none: nowhere (/export still gives it on demand).
    archive_chat_id: int | None = None
    # `complaint-bot purge` removes nothing closed within this many years.
    keep_years: int = Field(default=2, ge=2)


class WebSettings(_Strict):
    """The bot's web server (bot/web.py): GET /healthz and /metrics, and in webhook mode the
    updates Telegram posts. Off unless an address is given (webhook mode needs one)."""

    # "127.0.0.1:8080" (host:port; port 0: any free one). Empty: no web server.
    listen: str = ""

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        if value:
            host, _, port = value.rpartition(":")
            if not host or not port.isdigit() or not 0 <= int(port) < 65536:
                raise ValueError("web.listen: host:port, e.g. \"127.0.0.1:8080\"")
        return value


class BoardSettings(_Strict):
    """HR's board, a Telegram Mini App served by the bot's web server at /board."""

    # The page's public https address (its proxy passes /board to [web] listen), e.g.
    # "https://bot.example.com/board". Set: HR, the admins and the heads get a 看板 menu
    # button in their chat with the bot. Empty: no board.
    url: str = ""
    # How old Telegram's signed launch data may be before the page must be opened again.
    max_age_hours: float = Field(default=24, gt=0)

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        return https_address(value, "board.url: Telegram opens only", path_name="board")


class Settings(_Strict):
    telegram: TelegramSettings = TelegramSettings()
    database: DatabaseSettings = DatabaseSettings()
    general: GeneralSettings = GeneralSettings()
    workgroup: WorkgroupSettings = WorkgroupSettings()
    admins: list[int] = []
    routing: Routing = Routing()
    departments: list[Department] = Field(min_length=1)
    calendar: CalendarSettings = CalendarSettings()
    # [deadlines.<product|service|escalation>.<step>]: overrides of the rule book's deadlines.
    deadlines: dict[str, dict[str, DeadlineOverride]] = {}
    fines: FineSettings = FineSettings()
    roles: RoleSettings = RoleSettings()
    sheet: SheetSettings = SheetSettings()
    severity: SeveritySettings = SeveritySettings()
    feedback: FeedbackSettings = FeedbackSettings()
    followup: FollowUpSettings = FollowUpSettings()
    records: RecordsSettings = RecordsSettings()
    web: WebSettings = WebSettings()
    board: BoardSettings = BoardSettings()
    # How often the scheduler's safety-net sweep runs (seconds).
    sweep_seconds: float = Field(default=30, gt=0)
    members: list[Member] = []
    brands: list[str] = []
    token: str = Field(default="", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _health_is_now_web(cls, data: Any) -> Any:
        """[health] listen (the first release with it) is [web] listen now."""
        if isinstance(data, dict) and "health" in data and "web" not in data:
            log.warning("config: [health] is now called [web]; rename the section")
            data = {**data, "web": data["health"]}
            del data["health"]
        return data

    @model_validator(mode="after")
    def _webhook_complete(self) -> Settings:
        if self.telegram.mode == "webhook" and not (self.telegram.webhook_url and self.web.listen):
            raise ValueError("telegram.mode = \"webhook\" needs telegram.webhook_url (the https "
                             "address Telegram posts to) and web.listen (where this process "
                             "receives them, behind the https proxy)")
        return self

    @model_validator(mode="after")
    def _board_served(self) -> Settings:
        if self.board.url and not self.web.listen:
            raise ValueError("board.url needs web.listen: the board is a page of the bot's web "
                             "server, which the https proxy of board.url passes requests to")
        return self

    @model_validator(mode="after")
    def _references_exist(self) -> Settings:
        keys = [d.key for d in self.departments]
        duplicates = {k for k in keys if keys.count(k) > 1}
        if duplicates:
            raise ValueError(f"department keys must be unique; repeated: {', '.join(sorted(duplicates))}")
        known = set(keys)
        routed = [self.routing.product_intake, self.routing.service_intake,
                  *self.routing.product_investigators, *self.routing.escalation_bodies,
                  *(d.superior for d in self.departments if d.superior),
                  *([self.roles.finance] if self.roles.finance else []),
                  *([self.severity.managing_department] if self.severity.managing_department
                    else [])]
        for key in routed:
            if key not in known:
                raise ValueError(
                    f"routing, a superior, severity.managing_department or roles.finance names "
                    f"department {key!r}, which is not among "
                    f"[[departments]] ({', '.join(keys)})"
                )
        from bot.domain.sla import check_overrides

        check_overrides({kind: set(steps) for kind, steps in self.deadlines.items()})
        calendar, sheet = self.calendar, self.sheet
        if calendar.mode == "working" and not (
                calendar.day_start <= sheet.compile_at < calendar.day_end):
            raise ValueError(f"sheet.compile_at ({sheet.compile_at:%H:%M}) must fall in the working "
                             f"day ({calendar.day_start:%H:%M}-{calendar.day_end:%H:%M}): rule 一.4 "
                             "wants the sheet before the end of the day")
        if calendar.mode == "working" and not (
                calendar.day_start <= sheet.morning_at < calendar.day_end):
            raise ValueError(f"sheet.morning_at ({sheet.morning_at:%H:%M}) must fall in the working "
                             f"day ({calendar.day_start:%H:%M}-{calendar.day_end:%H:%M})")
        for chain in ("sheet", "freight"):
            for step, override in self.deadlines.get(chain, {}).items():
                if override.fines:
                    raise ValueError(f"deadlines.{chain}.{step}.fines: rule 一.5 fines missed "
                                     "replies to complaints only; remove it")
        member_ids = [m.id for m in self.members]
        if len(member_ids) != len(set(member_ids)):
            raise ValueError("each [[members]] id may appear only once")
        listed = set(member_ids)
        for dept in self.departments:
            for uid in [*dept.members, *([dept.head] if dept.head else []),
                        *([dept.vice_president] if dept.vice_president else [])]:
                if uid not in listed:
                    raise ValueError(
                        f"department {dept.key!r} names user {uid}, who has no [[members]] entry "
                        "(give them one with id and name)"
                    )
        for setting, _role, uid in self.roles.holders():
            if uid not in listed:
                raise ValueError(f"roles.{setting} names user {uid}, who has no [[members]] "
                                 "entry (give them one with id and name)")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.general.timezone)

    def chain_gaps(self) -> list[str]:
        """Roles of rules 一.4 and 三 that nobody holds: valid config, but a step would wait
        on nobody. Said at start-up and by check-config; HR also hears when it happens."""
        roles, gaps = self.roles, []
        hr = next((d for d in self.departments if d.key == self.routing.service_intake), None)
        if self.fines.hr_chat_id is None and (hr is None or hr.head is None):
            gaps.append("HR has no head and [fines] hr_chat_id is unset, so the daily sheet, "
                        "fine notices and reports go nowhere (HR can still use /sheet)")
        gm = roles.general_manager is not None or bool(roles.gm_assistants)
        if self.sheet.enabled and not gm:
            gaps.append("rule 一.4: no [roles] general_manager or gm_assistants, so nobody can "
                        "record the GM's decision on the daily sheet")
            without_vp = [d.key for d in self.departments if d.vice_president is None]
            if without_vp:
                gaps.append("rule 一.4: departments without a vice_president (and no GM to stand "
                            f"in): {', '.join(without_vp)}")
        if roles.finance is None:
            gaps.append("rule 三: no [roles] finance department, so /freight is refused")
        if not roles.order_followers:
            gaps.append("rule 三: no [roles] order_followers, so nobody can open a freight slip")
        return gaps

    def department_name(self, key: str) -> str:
        for dept in self.departments:
            if dept.key == key:
                return dept.name
        return key


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required but missing"
        elif item["type"] == "extra_forbidden":
            message = "is not a known setting (check the spelling against config.example.toml)"
        lines.append(f"{where}: {message}")
    return "\n".join(lines)


def parse_settings(data: dict[str, Any], token: str = "") -> Settings:
    try:
        return Settings.model_validate({**data, "token": token})
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def load_settings(path: str | Path, *, require_token: bool = True) -> Settings:
    path = Path(path)
    token = os.environ.get(TOKEN_ENV, "").strip()
    if require_token and not token:
        raise ConfigError(
            f"No bot token: ask @BotFather on Telegram for one (/newbot), then put it in "
            f"the environment as {TOKEN_ENV} (or a line {TOKEN_ENV}=... in .env) and start again."
        )
    if not path.exists():
        raise ConfigError(
            f"{path}: file not found. Copy config.example.toml to {path} and edit it."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    database_url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if database_url:
        data["database"] = {**data.get("database", {}), "url": database_url}
    try:
        return parse_settings(data, token)
    except ConfigError as exc:
        raise ConfigError(f"{path}:\n{exc}") from None
