"""stripe-python (Debian python3-stripe 5.x, legacy globals API) acting for a connected account.

Run by test/api/stripe-python-v1.test.ts with /usr/bin/python3 -I. Inputs from the environment:

  CONNECTD_URL     the server origin, e.g. http://127.0.0.1:41234
  PLATFORM_KEY     the platform's test secret key
  ACCOUNT          a connected account (read_write) of that platform
  FOREIGN_ACCOUNT  an account connected to another platform only
  RUN_ID           a unique string for this run (emails)

Prints one JSON document on stdout; every SDK call is recorded as {"ok": value} or {"raised": {...}}.
"""
from __future__ import print_function

import json
import os
import sys

import stripe


def describe_error(e):
    return {
        "class": type(e).__name__,
        "is_card_error": isinstance(e, stripe.error.CardError),
        "is_permission_error": isinstance(e, stripe.error.PermissionError),
        "is_invalid_request_error": isinstance(e, stripe.error.InvalidRequestError),
        "code": getattr(e, "code", None),
        "param": getattr(e, "param", None),
        "user_message": getattr(e, "user_message", None),
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


def main():
    stripe.api_key = os.environ["PLATFORM_KEY"]
    stripe.api_base = os.environ["CONNECTD_URL"]
    stripe.max_network_retries = 0
    stripe.enable_telemetry = False
    account = os.environ["ACCOUNT"]
    run_id = os.environ["RUN_ID"]
    email = "py-%s@example.com" % run_id

    out = {"sdk_version": stripe.version.VERSION}

    def account_view():
        a = stripe.Account.retrieve(stripe_account=account)
        return {"id": a["id"], "object": a["object"], "type": a["type"], "charges_enabled": a["charges_enabled"]}

    out["account"] = call(account_view)

    def create_customer():
        c = stripe.Customer.create(email=email, name="Py Customer", metadata={"run": run_id}, stripe_account=account)
        return {"id": c["id"], "object": c["object"], "email": c["email"], "metadata": dict(c["metadata"]), "livemode": c["livemode"]}

    out["customer"] = call(create_customer)

    def create_more():
        return [stripe.Customer.create(description="py %d" % i, stripe_account=account)["id"] for i in range(3)]

    out["more"] = call(create_more)

    def list_by_email():
        page = stripe.Customer.list(email=email, stripe_account=account)
        return {"object": page["object"], "url": page["url"], "has_more": page["has_more"], "ids": [c["id"] for c in page["data"]]}

    out["list_by_email"] = call(list_by_email)

    def list_all_paged():
        # auto_paging_iter follows starting_after with the same stripe_account.
        page = stripe.Customer.list(limit=2, stripe_account=account)
        return [c["id"] for c in page.auto_paging_iter()]

    out["list_all"] = call(list_all_paged)

    def declined():
        return stripe.Charge.create(amount=1000, currency="usd", source="tok_chargeDeclined", stripe_account=account)["id"]

    out["declined"] = call(declined)

    def succeeded():
        ch = stripe.Charge.create(amount=1000, currency="usd", source="tok_visa", stripe_account=account)
        return {"id": ch["id"], "status": ch["status"], "brand": ch["payment_method_details"]["card"]["brand"]}

    out["succeeded"] = call(succeeded)

    out["foreign_account"] = call(
        lambda: stripe.Customer.list(stripe_account=os.environ["FOREIGN_ACCOUNT"])["object"]
    )
    return out


if __name__ == "__main__":
    result = main()
    json.dump(result, sys.stdout, default=str)
    sys.stdout.write("\n")
