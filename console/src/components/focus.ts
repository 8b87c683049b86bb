/**
 * Content that appears or goes away takes the keyboard with it: once the host has rendered,
 * focus the element the selector names (never leave focus to fall back to <body>).
 */
export async function focusAfterRender(host: { updateComplete: Promise<unknown>; renderRoot: ParentNode }, selector: string): Promise<void> {
  await host.updateComplete;
  host.renderRoot.querySelector<HTMLElement>(selector)?.focus();
}
