"""The outbox sender: the one place that delivers queued rows to Telegram.

Three modules, one job each: `queue` (claims, leases, lanes, retries: the `Sender`),
`batching` (digests and merged messages) and `threads` (a complaint's topic and card);
`items` is the queue as a pass sees it, `calls` the Bot API's small print.

Services write `OutboxMessage` rows in their own transaction; this module sends them.
The standard is "nothing lost, nothing twice", within Telegram's limits:

- **Claims.** A row is claimed before it is sent, by a conditional UPDATE (pending →
  sending, with a lease of `LEASE`). Two bot processes may share one SQLite file: the
  one whose UPDATE matches sends the row, the other skips it. A row still 'sending' when
  its lease has run out belongs to a process that died; it goes back to pending (at
  start-up and in each drain) and is sent again. That is at-least-once, not exactly-once:
  Telegram has no idempotency key, so a message whose answer never reached our commit goes
  out twice: a crash in the few milliseconds between Telegram's answer and the commit, or
  a timeout after Telegram had already acted. Claims and per-lane order prevent every
  other duplicate.
- **Order.** Rows go out in id order per *lane*: one chat, or one complaint's thread. A
  lane waits while its first row is claimed elsewhere or is waiting to be retried.
- **Retries.** Network errors, timeouts and 5xx keep the row and back off (exponential,
  capped). A 429 that AIORateLimiter's own retries did not absorb makes that chat wait
  `retry_after`. A request Telegram refuses for good is marked failed, logged and
  reported to the admins. Nothing is dropped silently.
- **Recipients.** Someone who never opened a chat with the bot: their rows are *held*
  until they do (`People.touch` releases them) and whoever waits on them is told
  (`on_held`). Someone who blocked the bot: held too, `User.blocked_at` set, the admins
  told once; nothing more is tried until they write to the bot again.
- **Deleted topics.** A complaint whose topic is gone gets a new topic and its card again;
  the complaint (and every later row about it) follows the new topic.
- **Bursts** (`batching`). Three or more *digestible* notices (`bot.outbox.make_digestible`)
  due together for one group go out as one digest in the group's main chat, as many lines
  per message as fit. Plain private messages queued together (within `MERGE_WINDOW` of each
  other) are joined into one message.

Rows bound for groups are worked by one loop; each private chat by a task of its own, paced
at the chat's rate (bot.pacing), so a group's flood limit (about 20 messages a minute) never
holds up private messages, nor one busy person another. A reply to an update is claimed in
the update's own transaction when its chat's turn has come (`claim_at_commit`), and sent as
soon as that commits.
"""

from bot.sender.items import wall_now
from bot.sender.queue import Sender

__all__ = ["Sender", "wall_now"]
