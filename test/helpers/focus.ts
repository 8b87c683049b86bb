import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export interface FocusRing {
  /** The focused element, through open shadow roots: `tag#id.class` or its text. */
  element: string;
  outlineStyle: string;
  outlineWidth: number;
  /** Contrast of the outline colour against the background behind the element (WCAG 1.4.11 wants ≥ 3). */
  contrast: number;
}

/**
 * What the keyboard user sees on the focused element: its outline (or, for a visually hidden
 * control, its label's `:focus-within` outline) and how well it stands out from the background.
 */
export function focusRing(page: Page): Promise<FocusRing> {
  return page.evaluate(() => {
    let el = document.activeElement as HTMLElement | null;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement as HTMLElement;
    if (!el || el === document.body) return { element: 'body', outlineStyle: 'none', outlineWidth: 0, contrast: 0 };
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const backgroundOf = (n: Element | null): number[] => {
      for (let x: Element | null = n; x; x = x.parentElement ?? ((x.getRootNode() as ShadowRoot).host ?? null)) {
        const c = rgb(getComputedStyle(x).backgroundColor);
        if (c.length >= 3 && (c.length < 4 || c[3]! > 0.5)) return c;
      }
      return [255, 255, 255];
    };
    // A visually hidden input shows its focus on the label around it.
    const ringOn = el.getBoundingClientRect().width <= 1 ? (el.closest('label') ?? el) : el;
    const s = getComputedStyle(ringOn);
    const a = lum(rgb(s.outlineColor));
    const b = lum(backgroundOf(ringOn.parentElement ?? ringOn));
    const name = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.getAttribute('part') ? `[part=${el.getAttribute('part')}]` : ''}`;
    return {
      element: name,
      outlineStyle: s.outlineStyle,
      outlineWidth: parseFloat(s.outlineWidth),
      contrast: Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100,
    };
  });
}

/** Presses Tab and checks the focus that lands is visible: a solid ring ≥ 2 px at ≥ 3:1. Returns where it landed. */
export async function tabToVisibleFocus(page: Page, key = 'Tab'): Promise<string> {
  await page.keyboard.press(key);
  const ring = await focusRing(page);
  expect(ring.outlineStyle, ring.element).toBe('solid');
  expect(ring.outlineWidth, ring.element).toBeGreaterThanOrEqual(2);
  expect(ring.contrast, ring.element).toBeGreaterThanOrEqual(3);
  return ring.element;
}
