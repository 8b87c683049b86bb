import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { generate } from 'otplib';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * A real SMTP server on loopback (the `smtp-server` package) that keeps what it receives, so
 * tests read console mail the way a person's mailbox would get it.
 */
export async function startMailbox() {
  const received: ReceivedMail[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      simpleParser(stream).then((m) => {
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address).join(','),
          subject: m.subject ?? '',
          text: m.text ?? '',
          html: typeof m.html === 'string' ? m.html : '',
        });
        for (const w of waiters.splice(0)) w();
        done();
      }, (err: Error) => done(err));
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    /** The next mail to `to` whose subject matches, waiting for it to arrive. */
    async next(to: string, subject: RegExp, after = 0): Promise<ReceivedMail> {
      for (;;) {
        const m = received.slice(after).find((x) => x.to === to && subject.test(x.subject));
        if (m) return m;
        await new Promise<void>((ok) => waiters.push(ok));
      }
    },
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** The `token=` of the console link in a mail's text. */
export function linkToken(mail: ReceivedMail, page: 'verify' | 'reset'): string {
  const link = /https?:\/\/\S+/.exec(mail.text)?.[0];
  if (!link) throw new Error(`no link in ${mail.subject}`);
  const u = new URL(link);
  if (u.pathname !== `/console/${page}`) throw new Error(`link goes to ${u.pathname}`);
  return u.searchParams.get('token')!;
}

/** The code an authenticator app shows `steps` periods of 30 s from now. */
export function totpCode(secret: string, steps = 0): Promise<string> {
  const step = Math.floor(Date.now() / 30_000) + steps;
  return generate({ secret, epoch: step * 30 + 1 });
}
