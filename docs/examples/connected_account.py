"""Acting for a connected account with stripe-python (Debian's python3-stripe 5) against connectd.

Run: CONNECTD_URL=http://127.0.0.1:12111 PLATFORM_KEY=sk_test_… CLIENT_ID=ca_… python3 docs/examples/connected_account.py
"""
import json
import os
import urllib.parse
import urllib.request

import stripe

base = os.environ.get("CONNECTD_URL", "http://127.0.0.1:12111")
stripe.api_key = os.environ["PLATFORM_KEY"]
stripe.api_base = base
stripe.connect_api_base = base
import stripe.oauth  # noqa: E402  (v5 copies connect_api_base at import: set it there too)

stripe.oauth.connect_api_base = base
stripe.client_id = os.environ["CLIENT_ID"]

# 1. Connect a fresh test account with connectd's test helper, then exchange the code.
request = urllib.request.Request(
    base + "/v1/test_helpers/oauth/authorize",
    data=urllib.parse.urlencode({"client_id": stripe.client_id, "scope": "read_write"}).encode(),
    headers={"Authorization": "Bearer " + stripe.api_key},
)
code = json.load(urllib.request.urlopen(request))["code"]
account = stripe.OAuth.token(grant_type="authorization_code", code=code)["stripe_user_id"]

# 2. Your own key plus stripe_account= acts for the connected account.
me = stripe.Account.retrieve(stripe_account=account)
customer = stripe.Customer.create(email="buyer@example.com", stripe_account=account)
customers = stripe.Customer.list(limit=10, stripe_account=account)

# 3. A declined card raises CardError.
try:
    stripe.Charge.create(amount=2000, currency="usd", source="tok_chargeDeclined", stripe_account=account)
    declined = None
except stripe.error.CardError as err:
    declined = err.code

print(json.dumps({"account": me["id"], "customer": customer["id"], "count": len(customers["data"]), "declined": declined}))
