import { css } from 'lit';

const dark = css`
  --_bg: var(--wsl-color-bg, #1e1e1e);
  --_fg: var(--wsl-color-fg, #ececec);
  --_muted: var(--wsl-color-muted, #a8a8a8);
`;

/**
 * Constructable stylesheet (adoptedStyleSheets), so a page's CSP needs no 'unsafe-inline'.
 * Public tokens are `--wsl-*`; the `--_*` ones are private shorthands with the defaults.
 */
export const styles = css`
  :host {
    --_bg: var(--wsl-color-bg, #fff);
    --_fg: var(--wsl-color-fg, #1a1a1a);
    --_muted: var(--wsl-color-muted, #5f5f5f);
    --_line: color-mix(in srgb, var(--_fg) 12%, transparent);
    --_accent: var(--wsl-color-accent, #07813e);
    --_size: var(--wsl-size, 180px);
    display: inline-block;
    color: var(--_fg);
    font: 14px/1.5 var(--wsl-font, system-ui, sans-serif);
  }
  :host([theme='dark']) {
    ${dark}
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${dark}
    }
  }
  .box {
    box-sizing: border-box;
    width: calc(var(--_size) + 60px);
    padding: 20px 16px 16px;
    text-align: center;
    background: var(--_bg);
    border: 1px solid var(--_line);
    border-radius: var(--wsl-radius, 12px);
  }
  .head {
    display: flex;
    gap: 8px;
    align-items: center;
    justify-content: center;
    margin: 0 0 14px;
    font-size: 15px;
    font-weight: 600;
    white-space: nowrap;
  }
  .frame {
    position: relative;
    width: var(--_size);
    aspect-ratio: 1;
    margin: auto;
    overflow: hidden;
  }
  img,
  .skel,
  .over {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
  }
  img {
    background: #fff;
  }
  .skel {
    background: var(--_line);
    animation: pulse 1.2s ease-in-out infinite alternate;
  }
  @keyframes pulse {
    to {
      opacity: 0.5;
    }
  }
  .over {
    display: grid;
    place-content: center;
    justify-items: center;
    box-sizing: border-box;
    padding: 12px;
    border: 0;
    color: inherit;
    font: inherit;
    background: color-mix(in srgb, var(--_bg) 94%, transparent);
  }
  button.over {
    cursor: pointer;
  }
  .match {
    font-size: 44px;
    font-weight: 700;
    line-height: 1.1;
  }
  .ok,
  .btn {
    display: inline-block;
    padding: 6px 16px;
    border-radius: 99px;
    background: var(--_accent);
    color: #fff;
    text-decoration: none;
  }
  .ok {
    display: grid;
    place-items: center;
    width: 56px;
    height: 56px;
    padding: 0;
    border-radius: 50%;
    font-size: 30px;
    font-weight: 700;
  }
  .no {
    background: var(--_muted);
    color: var(--_bg);
  }
  small a {
    color: inherit;
  }
  p {
    margin: 12px 0 0;
    font-weight: 600;
  }
  /* Two lines reserved, so a longer status never moves what is below the widget. */
  [role='status'] {
    min-height: 3em;
  }
  small {
    display: block;
    margin: 4px 0 0;
    color: var(--_muted);
    font-size: 12px;
    font-weight: 400;
  }
  :focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: -2px;
  }
  @media (prefers-reduced-motion: reduce) {
    .skel {
      animation: none;
    }
  }
`;
