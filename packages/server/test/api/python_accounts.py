"""stripe-python (Debian python3-stripe 5.x) creating, linking and retrieving a Standard account.

Run by test/api/stripe-python-accounts.test.ts with /usr/bin/python3 -I. Inputs from the environment:

  CONNECTD_URL   the server origin, e.g. http://127.0.0.1:41234
  PLATFORM_KEY   the platform's test secret key

Prints one JSON document on stdout; every SDK call is recorded as {"ok": value} or {"raised": {...}}.
"""
from __future__ import print_function

import json
import os

import stripe


def call(fn):
    try:
        return {"ok": fn()}
    except stripe.error.StripeError as e:
        return {"raised": {
            "class": type(e).__name__,
            "is_invalid_request_error": isinstance(e, stripe.error.InvalidRequestError),
            "param": getattr(e, "param", None),
            "http_status": getattr(e, "http_status", None),
            "user_message": getattr(e, "user_message", None),
        }}


def main():
    stripe.api_base = os.environ["CONNECTD_URL"]
    stripe.api_key = os.environ["PLATFORM_KEY"]
    stripe.max_network_retries = 0
    out = {"sdk_version": stripe.version.VERSION}

    created = call(lambda: stripe.Account.create(
        type="standard", email="py@example.com", country="GB",
        business_profile={"name": "Py Pies", "url": "https://pies.example"}, metadata={"from": "python"}))
    out["created"] = created
    if "ok" in created:
        account = created["ok"]
        out["created"] = {"ok": {
            "id": account.id, "object": account.object, "type": account.type, "country": account.country,
            "default_currency": account.default_currency, "details_submitted": account.details_submitted,
            "charges_enabled": account.charges_enabled, "metadata": dict(account.metadata),
            "currently_due": list(account.requirements.currently_due),
            "is_controller": account.controller.is_controller,
        }}
        link = call(lambda: stripe.AccountLink.create(
            account=account.id, type="account_onboarding",
            refresh_url="http://127.0.0.1:9/refresh", return_url="http://127.0.0.1:9/return"))
        out["link"] = {"ok": {"object": link["ok"].object, "url": link["ok"].url,
                              "lifetime": link["ok"].expires_at - link["ok"].created}} if "ok" in link else link
        got = call(lambda: stripe.Account.retrieve(account.id))
        out["retrieved"] = {"ok": {"id": got["ok"].id, "email": got["ok"].email,
                                   "business_name": got["ok"].business_profile.name}} if "ok" in got else got
    out["controller_and_type"] = call(lambda: stripe.Account.create(
        type="standard", controller={"fees": {"payer": "account"}}).id)
    out["account_update_link"] = call(lambda: stripe.AccountLink.create(
        account=out["created"]["ok"]["id"] if "ok" in out["created"] else "acct_missing", type="account_update",
        refresh_url="http://127.0.0.1:9/refresh", return_url="http://127.0.0.1:9/return").url)
    print(json.dumps(out))


main()
