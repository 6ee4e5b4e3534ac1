"""How serious a complaint is (ch. 9, 投訴分類界定): 輕微 or 重大.

Every complaint starts 輕微 (minor: an inconvenience that improvements can resolve). It is
重大 (major) on one of the rule book's four grounds, which someone who may mark it names:

  a. a service the company promised or contracted was not delivered, or clearly wrong, and
     repeated requests did not get it resolved;
  b. the customer's normal business disrupted by causes outside the company;
  c. serious loss or injury caused by the company's management;
  d. not reasonably resolved within 10 days.

Who may mark it and lower it again is the service's business (bot/services/severity.py).
"""

from __future__ import annotations

import re
from enum import StrEnum

from bot.domain.words import N_


class Severity(StrEnum):
    MINOR = "minor"  # 輕微
    MAJOR = "major"  # 重大


class MajorGround(StrEnum):
    NOT_DELIVERED = "a"
    DISRUPTED = "b"
    LOSS_OR_INJURY = "c"
    UNRESOLVED_10_DAYS = "d"


# The grounds as the rule book words them (shown through gettext).
GROUND_WORDS: dict[MajorGround, str] = {
    MajorGround.NOT_DELIVERED: N_("承諾或合同約定的服務沒有兌現或有明顯差錯，經客戶多次提出仍未解決"),
    MajorGround.DISRUPTED: N_("非公司原因影響客戶正常經營"),
    MajorGround.LOSS_OR_INJURY: N_("因管理責任給客戶造成重大經濟損失或人身傷害"),
    MajorGround.UNRESOLVED_10_DAYS: N_("投訴在 10 天內得不到合理解決"),
}


def read_ground(text: str) -> MajorGround | None:
    """'a'…'d' (or Ａ, (a), a.), as typed after /major; None for anything else."""
    letter = re.sub(r"[\s().、）（]", "", text).lower()
    letter = {"ａ": "a", "ｂ": "b", "ｃ": "c", "ｄ": "d"}.get(letter, letter)
    try:
        return MajorGround(letter)
    except ValueError:
        return None
