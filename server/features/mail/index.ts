import type { Core, Feature } from '../../core';
import { createMailer, type Mailer } from './mailer';
import { devMailboxRoutes } from './routes';

export type { Mailer } from './mailer';
export { accountMail, pickLocale } from './messages';

/** Console mail (features/console/auth sends it) and, in development without SMTP, its mailbox page. */
export function createMailFeature(core: Core): { feature: Feature; mailer: Mailer } {
  const mailer = createMailer({ smtpUrl: core.config.smtpUrl, from: core.config.mailFrom, production: core.config.env === 'production', logger: core.logger });
  return {
    mailer,
    feature: {
      name: 'mail',
      router: devMailboxRoutes(mailer),
      async stop() {
        mailer.close();
      },
    },
  };
}
