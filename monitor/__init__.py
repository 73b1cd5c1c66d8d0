"""kratom-monitor: tells compliance teams, in Slack, when kratom's legal status changes where they sell."""

__version__ = "0.1.0"
