"""Alerts that reach people: emails to the users who subscribe, per place and kind, for
retaliation alerts, overdue reviews and failed scheduled imports. No personal detail is in a
message: it says what happened where, and links to sign in."""
