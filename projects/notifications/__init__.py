"""Notifications (issue 16): e-mail to members and messages to team webhooks.

- `preferences.py`: which events each member hears of by e-mail (defaults, saved choices);
- `outbox.py`: the writers the domain calls inside its own transactions (a task ends, a
  review is decided, a budget crosses 80 % or its limit): one Notification row per event,
  channel and recipient, and a delivery job enqueued on commit;
- `messages.py`: the words of each message (links to the app's pages, never to a file);
- `webhooks.py`: team webhooks (URL checks when saved, the signature, Apprise or signed JSON);
- `delivery.py`: the worker's side: send due rows, record failures, back off.

Nothing here writes a generation task; nothing here raises into the change that caused an
event (a failed write is logged and dropped, a failed send is retried).
"""
