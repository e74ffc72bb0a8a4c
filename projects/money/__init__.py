"""Money: what a generation costs and who pays it.

- `pricing`: price rules -> a quote in the rule's unit (seconds, tokens, credits) and micro-USD;
- `budgets`: team / project / user / API-key limits per period, checked under a lock;
- `billing`: a task's hold at submit and its settlement when it ends (the one caller of the
  ledger for tasks); `charges`: what a finished task is charged;
- `ledger`: the only writer of CreditEntry and CreditAccount (append-only, row-locked);
- `spend`: the read side for the spend pages and the CSV;
- `admin`: the ledger, price rules and budgets in Django admin.

The models stay in the app (`projects.models.ledger`, `projects.models.prices`).
"""
