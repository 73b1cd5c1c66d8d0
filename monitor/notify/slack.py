"""Slack delivery through slack-sdk: the Web API (chat.postMessage) or an incoming webhook."""
from __future__ import annotations

from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from ..store import ChangeRecord
from . import Delivery
from .message import build_message

PERMANENT_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                    "channel_not_found", "not_in_channel", "is_archived", "missing_scope", "no_permission",
                    "invalid_blocks", "msg_too_long", "restricted_action", "ekm_access_denied", "team_access_not_granted",
                    "no_service", "no_service_id", "no_team", "team_disabled", "invalid_token", "channel_is_archived",
                    "action_prohibited", "posting_to_general_channel_denied", "user_not_found"}


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "[redacted]") if secret else text


class SlackBotNotifier:
    name = "slack"

    def __init__(self, token: str, default_channel: str, base_url: str | None = None, timeout: int = 30):
        base = base_url or "https://slack.com/api/"
        self._token = token
        self.default_channel = default_channel
        self.client = WebClient(token=token, base_url=base if base.endswith("/") else base + "/", timeout=timeout,
                                retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2),
                                                RateLimitErrorRetryHandler(max_retry_count=3)])

    def send(self, change: ChangeRecord, channel: str, thread_ts: str | None) -> Delivery:
        text, blocks = build_message(change)
        try:
            response = self.client.chat_postMessage(channel=channel or self.default_channel, text=text, blocks=blocks,
                                                    thread_ts=thread_ts, unfurl_links=False, unfurl_media=False)
        except SlackApiError as e:
            error = str(e.response.get("error", "") if e.response is not None else "") or "slack_error"
            status = e.response.status_code if e.response is not None else 0
            retry_after = None
            if status == 429:
                retry_after = float(e.response.headers.get("Retry-After", 30) or 30)
            return Delivery(ok=False, error=_redact(f"Slack API error: {error} (HTTP {status})", self._token),
                            permanent=error in PERMANENT_ERRORS, retry_after=retry_after)
        except (SlackClientError, OSError, ValueError) as e:
            return Delivery(ok=False, error=_redact(f"Slack unreachable: {type(e).__name__}: {e}", self._token)[:300])
        return Delivery(ok=True, ts=response.get("ts"), channel_id=response.get("channel"))


class SlackWebhookNotifier:
    """A fixed channel, no threads. WebhookClient.send() does not raise on errors: check status and body."""

    name = "slack-webhook"

    def __init__(self, url: str, timeout: int = 30):
        self._url = url
        self.client = WebhookClient(url, timeout=timeout,
                                    retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2),
                                                    RateLimitErrorRetryHandler(max_retry_count=3)])

    def send(self, change: ChangeRecord, channel: str, thread_ts: str | None) -> Delivery:
        text, blocks = build_message(change)
        try:
            response = self.client.send(text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)
        except (SlackClientError, OSError, ValueError) as e:
            return Delivery(ok=False, error=_redact(f"Slack webhook unreachable: {type(e).__name__}: {e}",
                                                    self._url)[:300])
        if response.status_code == 200 and response.body.strip() in ("ok", ""):
            return Delivery(ok=True)
        body = (response.body or "").strip()[:100]
        permanent = response.status_code in (400, 403, 404, 410) and body not in ("rate_limited",)
        retry_after = None
        if response.status_code == 429:
            retry_after = float((response.headers or {}).get("Retry-After", ["30"])[0] if isinstance(
                (response.headers or {}).get("Retry-After"), list) else (response.headers or {}).get("Retry-After", 30))
        return Delivery(ok=False, error=f"Slack webhook error: HTTP {response.status_code} {body}",
                        permanent=permanent, retry_after=retry_after)
