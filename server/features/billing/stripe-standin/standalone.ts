import { pathToFileURL } from 'node:url';
import { startStripeStandin } from './server';

/**
 * The Stripe stand-in on its own port, for a staging or demo server with billing on and no
 * Stripe account: `npm run stripe-standin`, then start the server with the variables it prints.
 */
async function runFromCommandLine(): Promise<void> {
  const apiKey = process.env.STRIPE_SECRET_KEY ?? 'sk_test_standin';
  const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET ?? 'whsec_standin';
  const standin = await startStripeStandin({
    port: Number(process.env.STANDIN_PORT ?? 12111),
    host: process.env.STANDIN_HOST ?? '127.0.0.1',
    apiKey,
    webhookSecret,
    webhookUrl: process.env.STANDIN_WEBHOOK_URL ?? 'http://localhost:3000/v1/billing/stripe-webhook',
    prices: [{ id: 'price_standin_pro', unitAmount: 2900, usageType: 'licensed' }, { id: 'price_standin_mau', unitAmount: 2, usageType: 'metered' }],
  });
  console.log(`Stripe stand-in on ${standin.url}; start the server with:
  STRIPE_API_BASE=${standin.url} STRIPE_SECRET_KEY=${apiKey} STRIPE_WEBHOOK_SECRET=${webhookSecret} STRIPE_PRICE_PRO=price_standin_pro STRIPE_PRICE_PRO_MAU=price_standin_mau npm start`);
  const stop = () => void standin.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runFromCommandLine();
}
