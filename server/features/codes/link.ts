import QRCode from 'qrcode';

export type CodeImage = { contentType: string; body: Buffer };

/** The link a link-style code encodes; WeChat hands it to the page as `q` (DESIGN §11). */
export function codeLink(publicUrl: string, appId: string, sessionId: string): string {
  return `${publicUrl}/q/${appId}/${sessionId}`;
}

/** The rule the tenant adds in the mini-program admin: ends with `/` so WeChat matches sub-paths. */
export function linkRulePrefix(publicUrl: string, appId: string): string {
  return `${publicUrl}/q/${appId}/`;
}

/**
 * SVG: a few KB, sharp at any size the element is styled to, and drawn in about a millisecond,
 * so nothing needs to keep it. Level M survives a phone camera at an angle; the link is short
 * enough that the code stays at a version a screen shows crisply.
 */
export async function drawLinkCode(link: string): Promise<CodeImage> {
  const svg = await QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { contentType: 'image/svg+xml', body: Buffer.from(svg) };
}
