"""The running bot: webhook server, queue, apply, scheduler, repository config."""
