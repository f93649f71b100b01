"""Read-only views over the index or the API: dashboard, calendar, report."""
