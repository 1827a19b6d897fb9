"""Reporting: calendar feed tokens and review reminders (the dashboard, calendar and API live in harvester/)."""
