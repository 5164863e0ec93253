import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';

/** Where and how to send: the tenant's SMTP settings with the password opened (held only for one send). */
export interface SmtpTarget {
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  username: string | null;
  password: string | null;
  fromAddress: string;
  fromName: string | null;
}

/** One plain-text message. */
export interface Email {
  to: string;
  subject: string;
  text: string;
}

/** A send that failed; the message is the server's answer with the password removed, safe to show and store. */
export class MailError extends Error {
  override readonly name = 'MailError';
}

/** Sends one message over SMTP; the seam tests replace only when they cannot run a real SMTP server. */
export type Mailer = (target: SmtpTarget, email: Email) => Promise<void>;

// Short timeouts: a test send answers a waiting HTTP caller, and a job should fail and retry rather than hang.
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

/** Removes the password from a server's or library's message, wherever it might be echoed. */
function scrub(message: string, password: string | null): string {
  return password ? message.split(password).join('[redacted]') : message;
}

/** Sends with nodemailer: implicit TLS, STARTTLS required, or plain (no upgrade attempted). */
export const sendWithNodemailer: Mailer = async (target, email) => {
  const options: SMTPTransport.Options = {
    host: target.host,
    port: target.port,
    secure: target.security === 'tls',
    requireTLS: target.security === 'starttls',
    ignoreTLS: target.security === 'none',
    auth: target.username ? { user: target.username, pass: target.password ?? '' } : undefined,
    ...TIMEOUTS,
    // nodemailer's own logger would print the SMTP dialogue, AUTH included.
    logger: false,
    debug: false,
  };
  const transport = nodemailer.createTransport(options);
  try {
    await transport.sendMail({ from: target.fromName ? { name: target.fromName, address: target.fromAddress } : target.fromAddress, to: email.to, subject: email.subject, text: email.text });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new MailError(scrub(message, target.password).slice(0, 500));
  } finally {
    transport.close();
  }
};
