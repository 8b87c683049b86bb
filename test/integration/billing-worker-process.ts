/**
 * A billing server in a process of its own, so a test can kill it with SIGKILL mid-send (a
 * crash, not a clean shutdown). Prints `ready <url>` once listening. Env: DB_URL, REDIS_PREFIX,
 * VARS (JSON: extra environment), TUNING (JSON: billing tuning).
 */
import { startServer } from '../../server/main';
import { testConfig } from '../helpers/server';

const server = await startServer(testConfig(process.env.DB_URL!, process.env.REDIS_PREFIX!, JSON.parse(process.env.VARS ?? '{}')), {
  billing: JSON.parse(process.env.TUNING ?? '{}'),
});
process.stdout.write(`ready ${server.url}\n`);
