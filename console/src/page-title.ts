/**
 * Route changes in a single-page app are silent to a screen reader and leave every tab with
 * the same title. Each page names itself here: the document title changes and a polite live
 * region says the new page's name.
 */
const SUFFIX = 'wechat-scan-login console';
let region: HTMLElement | null = null;

function liveRegion(): HTMLElement {
  if (region?.isConnected) return region;
  region = document.createElement('div');
  region.setAttribute('role', 'status');
  region.setAttribute('aria-live', 'polite');
  region.id = 'wsl-route-announcer';
  region.style.cssText = 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap';
  document.body.append(region);
  return region;
}

export function titlePage(...parts: Array<string | undefined>): void {
  const name = parts.filter(Boolean).join(' · ');
  const title = name ? `${name} · ${SUFFIX}` : SUFFIX;
  if (document.title === title) return;
  document.title = title;
  liveRegion().textContent = name || SUFFIX;
}
