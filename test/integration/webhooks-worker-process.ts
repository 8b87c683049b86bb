/**
 * A server in a process of its own, so a test can kill it with SIGKILL mid-delivery (a crash,
 * not a clean shutdown). Prints `ready <url>` once listening. Env: DB_URL, REDIS_PREFIX, TUNING
 * (JSON), CONFIG (JSON: more environment for its configuration, e.g. ROLE=worker).
 */
import { startServer } from '../../server/main';
import { testConfig } from '../helpers/server';

const server = await startServer(testConfig(process.env.DB_URL!, process.env.REDIS_PREFIX!, JSON.parse(process.env.CONFIG ?? '{}')), {
  webhooks: JSON.parse(process.env.TUNING ?? '{}'),
});
process.stdout.write(`ready ${server.url}\n`);
