import nodemailer from 'nodemailer';
import type { Logger } from '../../lib/logger';
import type { MailMessage } from './messages';

/** How many messages the development mailbox keeps (newest first); it lives in this process only. */
const DEV_MAILBOX_SIZE = 50;

export interface Mailer {
  /**
   * Sends in the background and never throws: callers answer the same whether or not the
   * mail went (an SMTP outage must not tell who has an account), so a failure is logged.
   */
  send(message: MailMessage): void;
  /** Development without SMTP only: what would have been sent, newest first. Null otherwise. */
  readonly devMailbox: ReadonlyArray<MailMessage & { at: string }> | null;
  close(): void;
}

export function createMailer(opts: { smtpUrl: string | null; from: string; production: boolean; logger: Logger }): Mailer {
  const { logger } = opts;
  if (!opts.smtpUrl) {
    const box: Array<MailMessage & { at: string }> | null = opts.production ? null : [];
    if (opts.production) logger.warn('SMTP_URL is not set: console mail (verification, password reset) is not sent');
    return {
      send(m) {
        if (!box) {
          logger.warn({ to: m.to, subject: m.subject }, 'mail not sent: SMTP_URL is not set');
          return;
        }
        // Development: the whole text (its link included) is the point of logging it.
        logger.info({ mail: { to: m.to, subject: m.subject, body: m.text } }, 'mail (no SMTP_URL: not sent, see /console/dev/mailbox)');
        box.unshift({ ...m, at: new Date().toISOString() });
        box.length = Math.min(box.length, DEV_MAILBOX_SIZE);
      },
      devMailbox: box,
      close() {},
    };
  }
  const transport = nodemailer.createTransport(opts.smtpUrl);
  return {
    send(m) {
      transport.sendMail({ from: opts.from, to: m.to, subject: m.subject, text: m.text, html: m.html })
        .catch((err: unknown) => logger.error({ err, to: m.to, subject: m.subject }, 'mail could not be sent'));
    },
    devMailbox: null,
    close() {
      transport.close();
    },
  };
}
