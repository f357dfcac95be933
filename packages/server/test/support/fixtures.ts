// Fixed seed values for the test suites: two platforms and two merchants with known keys.
import type { Seed } from '../../src/seed.ts';

export const A = {
  id: 'acct_PlatformAAAAAAAAA',
  email: 'platform-a@example.com',
  password: 'platform-a-password',
  testSecret: 'sk_test_PlatformA0000000000000000000000000000',
  testPublishable: 'pk_test_PlatformA0000000000000000000000000000',
  liveSecret: 'sk_live_PlatformA0000000000000000000000000000',
  livePublishable: 'pk_live_PlatformA0000000000000000000000000000',
  clientIdTest: 'ca_PlatformATest000000000000000000',
  clientIdLive: 'ca_PlatformALive000000000000000000',
  redirect: 'http://127.0.0.1:4000/callback',
  liveRedirect: 'https://platform-a.example/cb',
  queryRedirect: 'https://platform-a.example/cb2?x=1',
};

export const B = {
  id: 'acct_PlatformBBBBBBBBB',
  email: 'platform-b@example.com',
  password: 'platform-b-password',
  testSecret: 'sk_test_PlatformB0000000000000000000000000000',
  liveSecret: 'sk_live_PlatformB0000000000000000000000000000',
  clientIdTest: 'ca_PlatformBTest000000000000000000',
  clientIdLive: 'ca_PlatformBLive000000000000000000',
  redirect: 'http://127.0.0.1:4001/callback',
};

export const M = { id: 'acct_MerchantMMMMMMMMM', email: 'merchant-m@example.com', password: 'merchant-m-password', business: 'Merchant M' };

export function testSeed(): Seed {
  return {
    accounts: [
      {
        id: A.id,
        email: A.email,
        password: A.password,
        business_name: 'Platform A',
        country: 'US',
        keys: { test_secret: A.testSecret, test_publishable: A.testPublishable, live_secret: A.liveSecret, live_publishable: A.livePublishable },
        platform: {
          name: 'Platform A',
          client_id_test: A.clientIdTest,
          client_id_live: A.clientIdLive,
          brand_color: '#0a7d4f',
          redirect_uris: [A.redirect, A.liveRedirect, A.queryRedirect],
        },
      },
      {
        id: B.id,
        email: B.email,
        password: B.password,
        business_name: 'Platform B',
        keys: { test_secret: B.testSecret, live_secret: B.liveSecret },
        platform: { name: 'Platform B', client_id_test: B.clientIdTest, client_id_live: B.clientIdLive, redirect_uris: [B.redirect] },
      },
      { id: M.id, email: M.email, password: M.password, business_name: M.business, country: 'US' },
    ],
  };
}
