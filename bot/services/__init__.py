"""The rule book's use cases, over the database.

One rule for their shape: what a handler or a scheduled job calls is a method of the
class named for its area, made with the `AppContext` (`Complaints(ctx).approve(...)`,
`Joining(ctx).submit(...)`, `Threads(ctx).add_comment(...)`); each such method is one
transaction (or joins the update's). Plain functions that take a `session` are helpers
for use inside a transaction that is already open (`person(session, ctx, id)`,
`open_step(...)`, `record(...)`); they never commit.
"""
