"""Questions waiting for a typed answer in the private chat (PendingInput purposes)."""

from __future__ import annotations

from handlers.forms import ANSWERS_TO, ASKED_AGAIN


def test_every_question_that_takes_an_answer_can_be_asked_again() -> None:
    """A sticker, voice note, file or photo while a question waits gets the question again
    (handlers.forms.ask_again): each purpose that takes a typed answer says what it asked."""
    assert ASKED_AGAIN.keys() == ANSWERS_TO.keys()
