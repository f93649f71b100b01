"""The GitHub client: app auth, the HTTP channel, pacing, rate limits, cache."""
