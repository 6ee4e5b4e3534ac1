"""The follow-up visit (回訪, ch. 3, 9 and 10): after a complaint is resolved, someone asks
the customer how it ended.

Within 24 hours of closing (config [followup]), the visitor records how they reached the
customer (書信, 電話, 微信 or 面談 — the rule wants a visit in person, 面談, for a major
complaint), how satisfied the customer is (滿意 / 基本滿意 / 不滿意), the customer's own
words, and whether more is needed. A visit that finds the customer dissatisfied, or more to
do, may reopen the complaint into a new round. The rate of visits must be 100 %, and the
results are counted monthly (回訪客戶月統計表).

Who visits is a role, configurable: the person who accepted the complaint (受理) for a minor
one, the managing department's head for a major one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.severity import Severity
from bot.domain.words import N_


class Method(StrEnum):
    PHONE = "phone"  # 電話
    WECHAT = "wechat"  # 微信
    IN_PERSON = "visit"  # 面談 (上門訪談)
    LETTER = "letter"  # 書信


class Satisfaction(StrEnum):
    SATISFIED = "good"  # 滿意
    FAIRLY = "fair"  # 基本滿意
    DISSATISFIED = "bad"  # 不滿意


class Visitor(StrEnum):
    """Who is given the visit, as a role ([followup] minor_visitor / major_visitor)."""

    ACCEPTER = "accepter"  # whoever pressed 受理 on the complaint
    MANAGING_HEAD = "managing_head"  # the head of [severity] managing_department (or intake's)
    INTAKE_HEAD = "intake_head"  # the head of the department that took the complaint in


METHOD_WORDS: dict[Method, str] = {
    Method.PHONE: N_("電話"),
    Method.WECHAT: N_("微信"),
    Method.IN_PERSON: N_("面談"),
    Method.LETTER: N_("書信"),
}
SATISFACTION_WORDS: dict[Satisfaction, str] = {
    Satisfaction.SATISFIED: N_("滿意"),
    Satisfaction.FAIRLY: N_("基本滿意"),
    Satisfaction.DISSATISFIED: N_("不滿意"),
}

VISIT_WORDS = N_("回訪")  # what a fine for a missed visit was for (the fines' step column)
MAX_WORDS = 1000  # the customer's words, as the visitor types them


class Question(StrEnum):
    """What the visit asks next, in order; DONE when everything is recorded."""

    METHOD = "method"
    SATISFACTION = "satisfaction"
    WORDS = "words"
    MORE = "more"
    DONE = "done"


@dataclass(frozen=True)
class VisitAnswers:
    method: Method | None = None
    satisfaction: Satisfaction | None = None
    words: str | None = None
    more_needed: bool | None = None

    @property
    def next_question(self) -> Question:
        if self.method is None:
            return Question.METHOD
        if self.satisfaction is None:
            return Question.SATISFACTION
        if self.words is None:
            return Question.WORDS
        if self.more_needed is None:
            return Question.MORE
        return Question.DONE

    @property
    def method_words(self) -> str:
        return METHOD_WORDS[self.method] if self.method else ""

    @property
    def satisfaction_words(self) -> str:
        return SATISFACTION_WORDS[self.satisfaction] if self.satisfaction else ""

    @property
    def may_reopen(self) -> bool:
        """The customer is not satisfied, or more is needed: a new round may follow."""
        return self.next_question is Question.DONE and (
            self.satisfaction is Satisfaction.DISSATISFIED or bool(self.more_needed))


def visitor_for(severity: Severity, minor: Visitor, major: Visitor) -> Visitor:
    return major if severity is Severity.MAJOR else minor


def wants_in_person(severity: Severity, method: Method | None) -> bool:
    """A major complaint is visited in person (面談): True when another way was chosen."""
    return severity is Severity.MAJOR and method is not None and method is not Method.IN_PERSON


@dataclass(frozen=True)
class Visit:
    """A visit as people read it: on the card, in /followups and in the questions."""

    id: int
    number: str
    customer: str
    severity: Severity
    visitor: str | None
    due_at: datetime
    answers: VisitAnswers
    done_at: datetime | None
    overdue: bool
    reopened: bool
    kept_closed: bool = False  # the visitor decided not to reopen it

    @property
    def decided(self) -> bool:
        """Whether reopening was decided on, either way (no more offering it)."""
        return self.reopened or self.kept_closed

    @property
    def question(self) -> Question:
        return self.answers.next_question

    @property
    def wants_in_person(self) -> bool:
        return wants_in_person(self.severity, self.answers.method)
