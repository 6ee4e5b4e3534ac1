"""Which commands each kind of user has, in private and in the workgroup.

One list feeds both /help and the command menus Telegram shows (set per scope).
"""

from __future__ import annotations

import contextlib

from sqlalchemy import or_, select
from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.config import LANGUAGES
from bot.services.context import AppContext
from bot.services.freight import Freight
from bot.services.people import Person, person
from bot.services.sheets import Sheets
from bot.store.models import Department, User, UserRole
from bot.texts import Texts

# Everyone, in the private chat.
PRIVATE_ANYONE = ("start", "whoami", "join", "language", "help")
# Members of a department, in the private chat.
PRIVATE_MEMBER = ("start", "product", "service", "cancel", "mine", "open", "followups", "show",
                  "export", "cases", "freight", "whoami", "language", "help")
# In the workgroup.
GROUP_MEMBER = ("complain", "answer", "open", "show", "major", "minor", "whoami", "help")
GROUP_ADMIN = (*GROUP_MEMBER, "bind")
# The fruit fund (rule 一.5): HR and admins keep it; heads see their own department's.
# With the daily sign-off sheet (rule 一.4), the freight slips' export (rule 三) and marking a
# complaint 重大, a closed one a typical case, and the monthly analysis report (ch. 9).
FINES_HR = ("fund", "fines", "fines_xlsx", "summary", "report", "waive", "paid", "sheet", "crx",
            "freight_xlsx", "major", "minor", "case")
FINES_HEAD = ("fund", "fines", "fines_xlsx", "report", "sheet", "major", "case")


def commands_for(person: Person | None, *, private: bool, hr_department: str = "hr",
                 sees_sheets: bool = False, exports_freight: bool = False) -> tuple[str, ...]:
    """The commands, in menu order. `sees_sheets` and `exports_freight` are rights held
    through a role rather than a department (the GM, a VP, the order desk, finance)."""
    if not private:
        return GROUP_ADMIN if person is not None and person.is_admin else GROUP_MEMBER
    if person is None:
        return PRIVATE_ANYONE
    if person.is_admin or person.department_key == hr_department:
        names: tuple[str, ...] = (*PRIVATE_MEMBER[:-1], *FINES_HR)
    elif person.is_head:
        names = (*PRIVATE_MEMBER[:-1], *FINES_HEAD)
    elif person.is_member:
        names = PRIVATE_MEMBER[:-1]
    else:
        names = PRIVATE_ANYONE[:-1]
    by_role = (*(("sheet",) if sees_sheets else ()), *(("freight_xlsx",) if exports_freight else ()))
    return (*names, *(name for name in by_role if name not in names), "help")


async def commands_of(ctx: AppContext, person: Person | None, *, private: bool) -> tuple[str, ...]:
    """commands_for with the role rights read from the database, as the commands check them."""
    hr = ctx.settings.routing.service_intake
    if person is None or not private:
        return commands_for(person, private=private, hr_department=hr)
    async with ctx.sessions() as session:
        sees_sheets = await Sheets(ctx).may_see(session, person.id)
        exports_freight = await Freight(ctx).may_export(session, person.id)
    return commands_for(person, private=True, hr_department=hr, sees_sheets=sees_sheets,
                        exports_freight=exports_freight)


async def personal_menus(ctx: AppContext) -> list[tuple[Person, tuple[str, ...]]]:
    """Who gets a menu of their own in the private chat, and its commands: HR, admins and
    heads have the fruit-fund commands; the order desk, finance, vice-presidents, the GM and
    assistants /sheet or /freight_xlsx; anyone else whose language Telegram's menus would not
    show them. People the bot cannot write to yet are left out."""
    routing, finance = ctx.settings.routing, ctx.settings.roles.finance
    async with ctx.sessions() as session:
        users = list(await session.scalars(select(User.id).where(
            or_(User.is_admin.is_(True), User.department_key.in_(
                [routing.service_intake, routing.product_intake, finance])))))
        for dept in await session.scalars(select(Department)):
            users += [uid for uid in (dept.head_user_id, dept.vice_president_id) if uid]
        users += list(await session.scalars(select(UserRole.user_id)))
        with_roles = set(users)
        # Besides, whoever reads another language than Telegram's menu for their app shows
        # (its menus know "zh", not which Chinese; config or /language may choose another).
        default = ctx.settings.general.default_language
        people = []
        for user in await session.scalars(select(User).where(User.reachable.is_(True))):
            someone = await person(session, ctx, user.id)
            if someone is not None and someone.reachable and (
                    user.id in with_roles
                    or someone.language != scope_menu_language(user.telegram_language, default)):
                people.append(someone)
    return [(someone, await commands_of(ctx, someone, private=True)) for someone in people]


def menu_languages(default: str) -> list[tuple[str, str | None]]:
    """Each language's menu and the language_code Telegram shows it for (None: everyone
    else). Telegram tells languages apart by two letters only: "zh" gets the default's
    Chinese, or Traditional (the rule book's) when the default is English; the other Chinese
    reaches its readers through their own menu (personal_menus)."""
    found: list[tuple[str, str | None]] = [(default, None)]
    codes = {default.split("-")[0]}
    for language in LANGUAGES:
        code = language.split("-")[0]
        if code not in codes:
            codes.add(code)
            found.append((language, code))
    return found


def menu(texts: Texts, language: str, names: tuple[str, ...]) -> list[BotCommand]:
    """A command menu in one language."""
    return [BotCommand(name, texts.plain(language, f"commands.{name}")) for name in names]


def scope_menu_language(telegram_code: str | None, default: str) -> str:
    """The language of the menu Telegram shows someone without one of their own."""
    code = (telegram_code or "").lower().replace("_", "-").split("-")[0]
    return next((lang for lang, menu_code in menu_languages(default) if menu_code == code), default)


async def set_personal_menu(bot: Bot, ctx: AppContext, someone: Person) -> None:
    """Their own menu, now (after /language or joining a department). The menu is Telegram's,
    not a message: set at once, and setting it again is harmless; every start sets the menus
    of whoever needs one (personal_menus), should this call not land."""
    names = await commands_of(ctx, someone, private=True)
    with contextlib.suppress(TelegramError):
        await bot.set_my_commands(menu(ctx.texts, someone.language, names),
                                  scope=BotCommandScopeChat(someone.id))
