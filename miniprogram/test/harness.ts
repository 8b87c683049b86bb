/**
 * Renders the real page files (index.json/.wxml/.wxss/.js, flow.js, i18n.js) with
 * Tencent's miniprogram-simulate (j-component) on a jsdom document, with a `wx` the test
 * supplies. miniprogram-simulate expects jest's jsdom environment; here we install the few
 * DOM globals it uses ourselves, so the same test file can also talk to a real server
 * from Node (vitest's jsdom environment would replace fetch, TextEncoder and friends).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';

const require = createRequire(import.meta.url);
export const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'pages', 'scan-login');

let simulate: Simulate | undefined;

interface SimNode {
  dom: Element;
  querySelector(sel: string): SimNode | null;
  querySelectorAll(sel: string): SimNode[];
  dispatchEvent(name: string, detail?: { detail?: unknown }): void;
}
export interface PageInstance {
  data: Record<string, unknown> & { state: string; t: Record<string, string> };
  onLoad(options: Record<string, string>): Promise<void>;
  onConfirm(e: { detail: { value: Record<string, string> } }): Promise<void>;
  onCancel(): Promise<void>;
  onRetry(): Promise<void>;
  onChooseAvatar(e: { detail: { avatarUrl: string } }): Promise<void>;
  onBack(): void;
}
export interface RenderedPage extends SimNode {
  instance: PageInstance;
  attach(parent: Element): void;
  detach(): void;
}
interface Simulate {
  load(path: string, opts: { compiler: 'simulate' | 'official' }): string;
  render(id: string, props?: Record<string, unknown>): RenderedPage;
  sleep(ms: number): Promise<void>;
}

function installDom(): void {
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', { url: 'https://servicewechat.com/' });
  const g = globalThis as Record<string, unknown>;
  g.window = dom.window;
  const w = dom.window as unknown as Record<string, unknown>;
  for (const k of ['document', 'Node', 'Element', 'HTMLElement', 'MutationObserver', 'getComputedStyle']) {
    if (!(k in g)) g[k] = w[k];
  }
  // j-component dispatches with the global Event, and jsdom nodes accept only jsdom's own
  // (Node's internals keep their own references, so fetch and ws are unaffected).
  g.Event = w.Event;
  g.CustomEvent = w.CustomEvent;
}

export function getSimulate(): Simulate {
  if (!simulate) {
    installDom();
    simulate = require('miniprogram-simulate') as Simulate;
  }
  return simulate;
}

/** Loads and attaches the confirm page with this `wx`; call `instance.onLoad({scene})` next. */
export function renderPage(wx: unknown): RenderedPage {
  const sim = getSimulate();
  (globalThis as Record<string, unknown>).wx = wx;
  const id = sim.load(join(PAGE_DIR, 'index'), { compiler: 'simulate' });
  const page = sim.render(id);
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

/** The page's visible text (WXML <text> and friends), whitespace collapsed. */
/** j-component answers `undefined` for no match. */
export function has(page: SimNode, selector: string): boolean {
  return Boolean(page.querySelector(selector));
}

export function pageText(page: RenderedPage): string {
  return (page.dom.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** Waits until the page's state is one of `states` (j-component renders setData synchronously). */
export async function waitForState(page: RenderedPage, ...states: string[]): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (states.includes(page.instance.data.state) && !page.instance.data.busy) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`page stayed in ${page.instance.data.state}, wanted ${states.join('|')}`);
}

/** The page's own modules, for unit tests (CommonJS, as in a mini-program). */
export function requirePageModule<T>(name: 'flow' | 'i18n' | 'config'): T {
  return require(join(PAGE_DIR, name)) as T;
}
