"""Which commands each kind of user has, in private and in the workgroup.

One list feeds both /help and the command menus Telegram shows (set per scope).
"""

from __future__ import annotations

from bot.services.people import Person

# Everyone, in the private chat.
PRIVATE_ANYONE = ("start", "whoami", "join", "help")
# Members of a department, in the private chat.
PRIVATE_MEMBER = ("start", "product", "service", "cancel", "mine", "open", "show", "whoami", "help")
# In the workgroup.
GROUP_MEMBER = ("complain", "answer", "open", "show", "whoami", "help")
GROUP_ADMIN = (*GROUP_MEMBER, "bind")


def commands_for(person: Person | None, *, private: bool) -> tuple[str, ...]:
    if not private:
        return GROUP_ADMIN if person is not None and person.is_admin else GROUP_MEMBER
    if person is not None and person.is_member:
        return PRIVATE_MEMBER
    return PRIVATE_ANYONE
