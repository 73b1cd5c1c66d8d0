"""Slack delivery through slack-sdk: the Web API (chat.postMessage) or an incoming webhook.

A send returns a Delivery that says whether retrying can help: Slack down (5xx, connection errors) and long rate
limits are transient, a refused token or channel is permanent. A short 429 is waited out in-process (slack-sdk's
RateLimitErrorRetryHandler); a long one is handed back so the outbox retries after Retry-After without blocking the
pass. The token and the webhook URL are secrets: they never appear in an error, and slack-sdk's own logger (which
prints the webhook URL at DEBUG) is silenced; every outcome is reported by the caller instead. Neither client
follows a redirect: urllib would send the bot token (its Authorization header) on to whatever host a Location
names, so a 3xx from the configured address is a delivery error that names where it pointed.
"""
from __future__ import annotations

import hashlib
import http.client
import logging
import re
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.webhook import WebhookResponse
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from ..store import ChangeRecord
from . import Delivery
from .message import SlackMessage, build_message

DEFAULT_API_URL = "https://slack.com/api/"
TIMEOUT = 20  # seconds per request
RATE_LIMIT_MAX_WAIT = 20  # seconds one 429 may hold up a pass; a longer Retry-After goes back to the outbox
BROADCAST_SEVERITIES = {"high", "critical"}  # thread replies that are also shown in the channel

_SDK_LOG = logging.getLogger("monitor.notify.slack_sdk")
_SDK_LOG.setLevel(logging.CRITICAL)
_SDK_LOG.propagate = False
_SDK_LOG.addHandler(logging.NullHandler())

# What a refusal means and what the operator should do. Workspace-wide ones stop every channel.
AUTH_HINT = "the bot token was rejected: set SLACK_BOT_TOKEN to a valid bot token, xoxb-..., with chat:write"
WORKSPACE_ERRORS = {
    "invalid_auth": AUTH_HINT, "not_authed": AUTH_HINT, "token_revoked": AUTH_HINT, "token_expired": AUTH_HINT,
    "account_inactive": AUTH_HINT, "not_allowed_token_type": AUTH_HINT, "invalid_token": AUTH_HINT,
    "missing_scope": "the bot token lacks the chat:write scope: add it and reinstall the Slack app",
    "no_permission": "the bot is not allowed to post here: check the Slack app's permissions",
    "team_access_not_granted": "the token has no access to this workspace",
    "ekm_access_denied": "the workspace's administrators have suspended posting",
    "org_login_required": "the workspace is being migrated to an Enterprise Grid org; try again later",
}
CHANNEL_HINT = "the channel does not exist or the bot cannot see it: check SLACK_CHANNEL and settings.slack, " \
               "and invite the bot to a private channel"
CHANNEL_ERRORS = {
    "channel_not_found": CHANNEL_HINT,
    "not_in_channel": "the bot is not a member: /invite it to the channel",
    "is_archived": "the channel is archived: unarchive it or route alerts elsewhere",
    "channel_is_archived": "the channel is archived: unarchive it or route alerts elsewhere",
    "restricted_action": "the workspace does not let the bot post in this channel",
    "restricted_action_read_only_channel": "the channel is read-only for the bot",
    "posting_to_general_channel_denied": "only admins may post in this channel",
}
THREAD_ERRORS = {"thread_not_found", "invalid_thread_ts", "cannot_reply_to_message"}
BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "invalid_payload"}
TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
                    "rate_limited", "rollup_error"}
WEBHOOK_HINT = "the webhook was refused: it was revoked, its channel is gone, or the URL is wrong; create a new " \
               "incoming webhook and set SLACK_WEBHOOK_URL"
TRANSPORT_ERRORS = (SlackClientError, OSError, ValueError, http.client.HTTPException)
REDIRECT_HINT = {"bot": "set SLACK_API_URL to the Web API's own address (default https://slack.com/api/)",
                 "webhook": "set SLACK_WEBHOOK_URL to the exact URL Slack gave for the webhook"}


@dataclass(frozen=True)
class _Answer:
    """A Delivery plus Slack's error code, which decides whether to resend without blocks."""

    code: str
    delivery: Delivery


def fingerprint(*parts: str) -> str:
    """A short one-way digest of the destination settings: tells when they changed without storing a secret."""
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=8, person=b"kratom-dest").hexdigest()


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """A header from slack-sdk's headers (a dict or a message; str or [str] values; any case)."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value[0] if isinstance(value, (list, tuple)) and value else value
    return None


def redirected(status: int, headers: Mapping[str, Any] | None, client: str) -> Delivery:
    """A 3xx from the configured Slack address: not followed, held for every channel until the setting changes.
    Only the target's scheme and host are shown: its path or query could carry the webhook secret."""
    location = header(headers, "location") or ""
    try:
        parts = urlsplit(location)
        target = f"{parts.scheme}://{parts.hostname}" if parts.scheme and parts.hostname else "a relative address"
    except ValueError:
        target = "an unreadable address"
    what = "Slack's Web API address" if client == "bot" else "the Slack webhook URL"
    return Delivery(ok=False, error=f"{what} answered HTTP {status}, a redirect to {target}; a redirect is never "
                                    f"followed (the {'bot token' if client == 'bot' else 'alert'} would go "
                                    f"there too): {REDIRECT_HINT[client]}", permanent=True, workspace=True)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Every 3xx becomes an HTTPError for slack-sdk to hand back, instead of a request to the Location."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _open(request: urllib.request.Request, context, proxy: str | None, timeout: int):
    """What slack-sdk's urlopen does (a proxy from the argument or the environment, its TLS context), minus
    redirects."""
    if not request.full_url.lower().startswith(("http://", "https://")):
        raise SlackRequestError("Invalid URL detected: not http(s)")
    handlers = [_NoRedirect(), urllib.request.HTTPSHandler(context=context)]
    if proxy:
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    return urllib.request.build_opener(*handlers).open(request, timeout=timeout)


class _WebClient(WebClient):
    """slack-sdk's WebClient, whose requests follow no redirect. It replaces the one method that opens the request
    (slack-sdk 3.x; tests/test_secrets.py fails if a new version stops calling it)."""

    def _perform_urllib_http_request_internal(self, url: str, req: urllib.request.Request) -> dict[str, Any]:
        response = _open(req, self.ssl, self.proxy, self.timeout)
        body = response.read().decode(response.headers.get_content_charset() or "utf-8")
        return {"status": response.code, "headers": response.headers, "body": body}


class _WebhookClient(WebhookClient):
    """slack-sdk's WebhookClient, following no redirect either."""

    def _perform_http_request_internal(self, url: str, req: urllib.request.Request) -> WebhookResponse:
        response = _open(req, self.ssl, self.proxy, self.timeout)
        body = response.read().decode(response.headers.get_content_charset() or "utf-8")
        return WebhookResponse(url=url, status_code=response.status, body=body, headers=response.headers)


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds from a Retry-After header (slack-sdk gives str or [str] values, in either case)."""
    value = header(headers, "retry-after")
    try:
        return None if value is None else max(0.0, float(value))
    except (TypeError, ValueError):
        return None


class ShortRateLimitWait(RateLimitErrorRetryHandler):
    """Waits out a 429 in-process only when Retry-After is short; a longer one is left to a later pass."""

    def __init__(self, max_wait: float = RATE_LIMIT_MAX_WAIT, max_retry_count: int = 2):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(response.headers)
        return wait is not None and wait <= self.max_wait


def error_code(text: str) -> str:
    """Slack's error code ("channel_not_found"), or "" when the answer is not one (an HTML error page)."""
    return text[:60] if text and text.replace("_", "").isalnum() else ""


def refusal(code: str, status: int, where: str, wait: float | None = None) -> Delivery:
    """Classify Slack's answer: transient (retry later), permanent for one channel, or for the whole workspace."""
    if status == 429 or code in TRANSIENT_ERRORS or status >= 500:
        detail = f"rate limited, retry after {wait:.0f} s" if status == 429 and wait else \
            ", ".join(x for x in (code, f"HTTP {status}") if x)
        return Delivery(ok=False, error=f"Slack is unavailable ({detail})", retry_after=wait if status == 429 else None)
    if code in WORKSPACE_ERRORS:
        return Delivery(ok=False, error=f"Slack refused the alert: {code} ({WORKSPACE_ERRORS[code]})", permanent=True,
                        workspace=True)
    hint = CHANNEL_ERRORS.get(code, "see https://api.slack.com/methods/chat.postMessage#errors")
    return Delivery(ok=False, error=f"Slack refused the alert for {where}: {code or f'HTTP {status}'} ({hint})",
                    permanent=True)


def post_or_fallback(post: Callable[[list[dict]], _Answer], message: SlackMessage) -> Delivery:
    """Send the blocks; if Slack refuses our layout, send the fallback as one section: the alert still arrives."""
    answer = post(message.blocks)
    if answer.code in BLOCK_ERRORS:
        answer = post(message.text_only())
    return answer.delivery


# Anything shaped like a Slack secret, even one that differs from the configured value (a malformed URL).
SECRET_SHAPES = re.compile(r"xox[a-z]-[\w-]+|/services/\S+|hooks\.slack\.com/\S+", re.I)


def unreachable(error: BaseException, secret: str) -> Delivery:
    text = f"Slack is unreachable ({type(error).__name__}: {error})".replace(secret, "[redacted]")
    return Delivery(ok=False, error=SECRET_SHAPES.sub("[redacted]", text)[:300])


class SlackBotNotifier:
    """chat.postMessage with a bot token: threads, routing to several channels, and Slack's real errors."""

    name = "slack"

    def __init__(self, token: str, default_channel: str, base_url: str | None = None, timeout: int = TIMEOUT,
                 max_wait: float = RATE_LIMIT_MAX_WAIT):
        base = (base_url or DEFAULT_API_URL).rstrip("/") + "/"
        self._token = token
        self.default_channel = default_channel
        self.fingerprint = fingerprint("bot", base, default_channel, token)
        self.client = _WebClient(token=token, base_url=base, timeout=timeout, logger=_SDK_LOG,
                                 retry_handlers=[ShortRateLimitWait(max_wait)])

    def destination(self, channel: str) -> str:
        return channel or self.default_channel

    def send(self, change: ChangeRecord, channel: str, thread_ts: str | None, link: str | None) -> Delivery:
        message = build_message(change, link)
        broadcast = bool(thread_ts) and change.severity in BROADCAST_SEVERITIES
        return post_or_fallback(
            lambda blocks: self._post(self.destination(channel), message, blocks, thread_ts, broadcast), message)

    def _post(self, target: str, message: SlackMessage, blocks: list[dict], thread_ts: str | None,
              broadcast: bool) -> _Answer:
        extra = {"thread_ts": thread_ts, "reply_broadcast": broadcast} if thread_ts else {}
        try:
            response = self.client.chat_postMessage(channel=target, text=message.text, blocks=blocks,
                                                    unfurl_links=False, unfurl_media=False, **extra)
        except SlackApiError as e:
            if 300 <= e.response.status_code < 400:
                return _Answer("", redirected(e.response.status_code, e.response.headers, "bot"))
            data = e.response.data if isinstance(e.response.data, dict) else {}
            code = error_code(str(data.get("error") or ""))
            if thread_ts and code in THREAD_ERRORS:  # the measure's first alert was deleted: post on its own
                return self._post(target, message, blocks, None, False)
            return _Answer(code, refusal(code, e.response.status_code, target, retry_after(e.response.headers)))
        except TRANSPORT_ERRORS as e:
            return _Answer("", unreachable(e, self._token))
        return _Answer("", Delivery(ok=True, ts=response.get("ts"), channel_id=response.get("channel")))


class SlackWebhookNotifier:
    """An incoming webhook: one fixed channel, no threads. WebhookClient.send() does not raise on a refusal, so the
    status and body are checked here."""

    name = "slack-webhook"

    def __init__(self, url: str, timeout: int = TIMEOUT, max_wait: float = RATE_LIMIT_MAX_WAIT):
        self._url = url
        self.fingerprint = fingerprint("webhook", url)
        self.client = _WebhookClient(url, timeout=timeout, logger=_SDK_LOG,
                                     retry_handlers=[ShortRateLimitWait(max_wait)])

    def destination(self, channel: str) -> str:
        return "the webhook's channel"

    def send(self, change: ChangeRecord, channel: str, thread_ts: str | None, link: str | None) -> Delivery:
        message = build_message(change, link)
        return post_or_fallback(lambda blocks: self._post(message, blocks), message)

    def _post(self, message: SlackMessage, blocks: list[dict]) -> _Answer:
        try:
            response = self.client.send(text=message.text, blocks=blocks, unfurl_links=False, unfurl_media=False)
        except TRANSPORT_ERRORS as e:
            return _Answer("", unreachable(e, self._url))
        body = (response.body or "").strip()
        if response.status_code == 200 and body in ("ok", ""):
            return _Answer("", Delivery(ok=True))
        code = error_code(body)
        status = response.status_code
        if 300 <= status < 400:
            return _Answer("", redirected(status, response.headers, "webhook"))
        if status in (403, 404, 410) and code not in TRANSIENT_ERRORS:
            return _Answer(code, Delivery(ok=False, error=f"Slack refused the alert: {code or f'HTTP {status}'} "
                                                          f"({WEBHOOK_HINT})", permanent=True, workspace=True))
        return _Answer(code, refusal(code, status, self.destination(""), retry_after(response.headers)))
