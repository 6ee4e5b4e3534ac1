"""Which commands each kind of user has, in private and in the workgroup.

One list feeds both /help and the command menus Telegram shows (set per scope).
"""

from __future__ import annotations

from bot.services.people import Person

# Everyone, in the private chat.
PRIVATE_ANYONE = ("start", "whoami", "join", "help")
# Members of a department, in the private chat.
PRIVATE_MEMBER = ("start", "product", "service", "cancel", "mine", "open", "show", "freight", "whoami",
                  "help")
# In the workgroup.
GROUP_MEMBER = ("complain", "answer", "open", "show", "whoami", "help")
GROUP_ADMIN = (*GROUP_MEMBER, "bind")
# The fruit fund (rule 一.5): HR and admins keep it; heads see their own department's.
# With the daily sign-off sheet (rule 一.4) and the freight slips' export (rule 三).
FINES_HR = ("fund", "fines", "fines_xlsx", "summary", "waive", "paid", "sheet", "crx", "freight_xlsx")
FINES_HEAD = ("fund", "fines", "fines_xlsx", "sheet")


def commands_for(person: Person | None, *, private: bool, hr_department: str = "hr") -> tuple[str, ...]:
    if not private:
        return GROUP_ADMIN if person is not None and person.is_admin else GROUP_MEMBER
    if person is None or not (person.is_member or person.is_admin):
        return PRIVATE_ANYONE
    if person.is_admin or person.department_key == hr_department:
        return (*PRIVATE_MEMBER[:-1], *FINES_HR, "help")
    if person.is_head:
        return (*PRIVATE_MEMBER[:-1], *FINES_HEAD, "help")
    return PRIVATE_MEMBER
