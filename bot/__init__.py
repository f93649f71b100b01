"""The event-support bot: a GitHub App that runs the support around events on managed
JupyterHubs."""
