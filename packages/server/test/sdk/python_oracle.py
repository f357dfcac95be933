"""stripe-python (Debian python3-stripe 5.x, legacy globals API) as an oracle against connectd.

Run by test/sdk/stripe-python.test.ts with /usr/bin/python3. Inputs come from the environment:

  CONNECTD_URL        the server origin, e.g. http://127.0.0.1:41234
  PLATFORM_KEY        the platform's test secret key
  CLIENT_ID           the platform's development client_id
  CODE                a fresh code: exchanged, refreshed, then the connection is deauthorized
  REPLAY_CODE         a fresh code: exchanged once, then replayed
  REDIRECT_URI        (authorize_url mode) a registered redirect URI

argv[1] is the mode: "flow" or "authorize_url". The script prints one JSON document on stdout;
every SDK call is recorded as {"ok": value} or {"raised": {...}} so the Node side asserts on it.
"""
from __future__ import print_function

import json
import os
import sys

import stripe
import stripe.oauth
import stripe.oauth_error


def configure():
    base = os.environ["CONNECTD_URL"]
    stripe.api_key = os.environ["PLATFORM_KEY"]
    stripe.client_id = os.environ["CLIENT_ID"]
    stripe.api_base = base
    stripe.connect_api_base = base
    # v5's stripe/oauth.py does `from stripe import connect_api_base` at import time, and
    # OAuth.token/deauthorize/authorize_url read that module-level copy, not stripe.connect_api_base.
    if hasattr(stripe.oauth, "connect_api_base"):
        stripe.oauth.connect_api_base = base
    stripe.max_network_retries = 0
    stripe.enable_telemetry = False
    return base


def describe_error(e):
    return {
        "class": type(e).__name__,
        "module": type(e).__module__,
        "is_oauth_error": isinstance(e, stripe.oauth_error.OAuthError),
        "is_invalid_grant": isinstance(e, stripe.oauth_error.InvalidGrantError),
        "is_invalid_client": isinstance(e, stripe.oauth_error.InvalidClientError),
        "is_authentication_error": isinstance(e, stripe.error.AuthenticationError),
        "code": getattr(e, "code", None),
        "user_message": getattr(e, "user_message", None),
        "text": str(e),
        "http_status": getattr(e, "http_status", None),
        "request_id": getattr(e, "request_id", None),
        "json_body": getattr(e, "json_body", None),
    }


def call(fn):
    try:
        value = fn()
    except stripe.error.StripeError as e:
        return {"raised": describe_error(e)}
    return {"ok": value}


def token_view(data):
    """The decoded token response: values, JSON types and key order as stripe-python saw them."""
    return {
        "keys": list(data.keys()),
        "types": {k: type(v).__name__ for k, v in data.items()},
        "data": dict(data),
    }


def flow():
    configure()
    out = {
        "sdk_version": stripe.version.VERSION,
        "oauth_module_had_connect_api_base": hasattr(stripe.oauth, "connect_api_base"),
        "oauth_module_connect_api_base": getattr(stripe.oauth, "connect_api_base", None),
    }

    exchanged = call(lambda: token_view(stripe.OAuth.token(grant_type="authorization_code", code=os.environ["CODE"])))
    out["exchange"] = exchanged
    if "ok" not in exchanged:
        return out
    token = exchanged["ok"]["data"]

    # The access token acts as the connected account on /v1 (api_base).
    out["account_with_access_token"] = call(lambda: stripe.Account.retrieve(api_key=token["access_token"])["id"])

    out["refresh"] = call(
        lambda: token_view(
            stripe.OAuth.token(grant_type="refresh_token", refresh_token=token["refresh_token"], scope="read_only")
        )
    )
    # The access token minted by the code was read_write; the refresh minted a read_only one, so the
    # original (other scope) still works until the deauthorization below.
    out["deauthorize"] = call(lambda: dict(stripe.OAuth.deauthorize(stripe_user_id=token["stripe_user_id"])))
    out["account_after_deauthorize"] = call(lambda: stripe.Account.retrieve(api_key=token["access_token"])["id"])
    out["refresh_after_deauthorize"] = call(
        lambda: stripe.OAuth.token(grant_type="refresh_token", refresh_token=token["refresh_token"])
    )
    out["deauthorize_again"] = call(lambda: dict(stripe.OAuth.deauthorize(stripe_user_id=token["stripe_user_id"])))

    # Unknown and replayed codes.
    out["unknown_code"] = call(lambda: stripe.OAuth.token(grant_type="authorization_code", code="ac_doesnotexist"))
    replay_code = os.environ["REPLAY_CODE"]
    first = call(lambda: token_view(stripe.OAuth.token(grant_type="authorization_code", code=replay_code)))
    out["replay_first"] = first
    if "ok" in first:
        # A read_only grant cannot be widened by a refresh.
        out["refresh_widen"] = call(
            lambda: stripe.OAuth.token(
                grant_type="refresh_token", refresh_token=first["ok"]["data"]["refresh_token"], scope="read_write"
            )
        )
    out["replay_second"] = call(lambda: stripe.OAuth.token(grant_type="authorization_code", code=replay_code))
    if "ok" in first:
        first_token = first["ok"]["data"]
        out["replay_first_access_token_after"] = call(
            lambda: stripe.Account.retrieve(api_key=first_token["access_token"])["id"]
        )

    # Other error classes stripe-python maps from the six OAuth codes.
    out["missing_code"] = call(lambda: stripe.OAuth.token(grant_type="authorization_code"))
    out["unsupported_grant"] = call(lambda: stripe.OAuth.token(grant_type="password", code="x"))
    out["bad_key"] = call(
        lambda: stripe.OAuth.token(api_key="sk_test_unknownkey1234", grant_type="authorization_code", code="ac_x")
    )
    return out


def authorize_url():
    configure()
    url = stripe.OAuth.authorize_url(
        scope="read_write",
        state="py state & more",
        redirect_uri=os.environ["REDIRECT_URI"],
        stripe_user={"email": "py-user@example.com", "business_name": "Py Co"},
    )
    return {"url": url}


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "flow"
    if mode == "flow":
        result = flow()
    elif mode == "authorize_url":
        result = authorize_url()
    else:
        raise SystemExit("unknown mode: %s" % mode)
    json.dump(result, sys.stdout, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
