import { css } from 'lit';

/** Shared look: one stylesheet adopted by every page (constructable, so it works under a strict CSP). */
export const shared = css`
  :host { display: block; --accent: #07c160; --accent-ink: #05813f; --danger: #c62828; --muted: #5d6975; --line: #dde2e7; --card: #fff; }
  * { box-sizing: border-box; }
  h1 { font-size: 1.5rem; margin: 0 0 1rem; }
  h2 { font-size: 1.15rem; margin: 1.5rem 0 .75rem; }
  h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
  p { margin: .4rem 0; }
  a { color: var(--accent-ink); }
  .muted { color: var(--muted); }
  .small { font-size: .85rem; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem; margin: 0 0 1rem; }
  .row { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
  .spread { justify-content: space-between; }
  .grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 1rem; align-items: start; }
  /* Grid items default to min-width:auto, so a long <pre> would widen its column past the page. */
  .grid2 > * { min-width: 0; }
  label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
  label .hint, .hint { font-weight: 400; color: var(--muted); font-size: .85rem; }
  input, select, textarea { font: inherit; padding: .5rem .6rem; border: 1px solid #b9c2cb; border-radius: 6px; width: 100%; background: #fff; color: inherit; }
  textarea { min-height: 5rem; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
  input[type=checkbox], input[type=radio] { width: auto; margin-right: .35rem; }
  label.inline { display: inline-flex; align-items: center; font-weight: 400; margin: 0 1rem 0 0; }
  /* The ring is the accent ink (5.3:1 on white), not the light brand green (1.7:1). */
  :focus-visible { outline: 3px solid var(--accent-ink); outline-offset: 2px; }
  [tabindex='-1']:focus { outline: none; }
  button, .button { font: inherit; font-weight: 600; border: 1px solid var(--accent-ink); background: var(--accent-ink); color: #fff; border-radius: 6px; padding: .45rem .9rem; cursor: pointer; text-decoration: none; display: inline-block; }
  button.secondary, .button.secondary { background: #fff; color: var(--accent-ink); }
  button.danger { background: var(--danger); border-color: var(--danger); }
  button.link { background: none; border: none; color: var(--accent-ink); padding: 0; text-decoration: underline; }
  button:disabled { opacity: .55; cursor: default; }
  code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; word-break: break-all; }
  pre { background: #0f1720; color: #e6edf3; padding: .9rem 1rem; border-radius: 8px; overflow-x: auto; font-size: .8rem; line-height: 1.45; margin: .5rem 0; white-space: pre; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
  .table-wrap { overflow-x: auto; }
  .badge { display: inline-block; font-size: .75rem; font-weight: 600; border-radius: 999px; padding: .05rem .55rem; background: #eef1f4; color: #33404d; }
  .badge.test { background: #fff4d6; color: #7a5600; }
  .badge.live, .badge.succeeded, .badge.ok { background: #ddf6e7; color: #05632f; }
  .badge.cancelled { background: #eceff3; color: #4a5561; }
  .badge.expired { background: #fff1dd; color: #8a4b00; }
  .badge.failed, .badge.bad { background: #fde4e4; color: #9c1c1c; }
  .field-error { color: var(--danger); font-size: .85rem; margin: .25rem 0 0; }
  [aria-invalid=true] { border-color: var(--danger); }
  .error { color: var(--danger); background: #fdeeee; border: 1px solid #f5c2c2; border-radius: 8px; padding: .6rem .8rem; margin: .5rem 0; }
  .success { color: #05632f; background: #e8f8ef; border: 1px solid #b6e6c9; border-radius: 8px; padding: .6rem .8rem; margin: .5rem 0; }
  .warn { color: #6b4400; background: #fff6e0; border: 1px solid #f2d79b; border-radius: 8px; padding: .6rem .8rem; margin: .5rem 0; }
  .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  .empty { text-align: center; color: var(--muted); padding: 2rem 1rem; }
  /* Tabs wrap onto a second line on narrow screens rather than scrolling out of sight. */
  .tabs { display: flex; flex-wrap: wrap; gap: .25rem; border-bottom: 1px solid var(--line); margin: 0 0 1rem; }
  .tabs a { padding: .5rem .8rem; text-decoration: none; color: var(--muted); border-bottom: 3px solid transparent; white-space: nowrap; font-weight: 600; }
  .tabs a[aria-current=page] { color: var(--accent-ink); border-bottom-color: var(--accent-ink); }
  @media (max-width: 640px) {
    .card { padding: .8rem; }
    th.opt, td.opt { display: none; }
  }
`;
