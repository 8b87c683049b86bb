import { LitElement, css, html } from 'lit';
import { shared } from '../styles';

/** A button that copies `value` and says so (for screen readers too). */
export class CopyButton extends LitElement {
  static override styles = [shared, css`:host { display: inline-block; } button { padding: .25rem .6rem; font-size: .85rem; }`];
  static override properties = { value: {}, label: {}, copied: { state: true } };
  declare value: string;
  declare label: string;
  declare copied: boolean;

  constructor() {
    super();
    this.value = '';
    this.label = 'Copy';
    this.copied = false;
  }

  private async copy() {
    try {
      await navigator.clipboard.writeText(this.value);
    } catch {
      // Clipboard API refused (insecure context, permissions): fall back to a hidden textarea.
      const t = document.createElement('textarea');
      t.value = this.value;
      document.body.append(t);
      t.select();
      document.execCommand('copy');
      t.remove();
    }
    this.copied = true;
    setTimeout(() => (this.copied = false), 1500);
    this.dispatchEvent(new CustomEvent('copied', { bubbles: true, composed: true, detail: { value: this.value } }));
  }

  override render() {
    return html`<button class="secondary" type="button" @click=${this.copy} aria-live="polite">${this.copied ? 'Copied' : this.label}</button>`;
  }
}
customElements.get('wsl-copy') ?? customElements.define('wsl-copy', CopyButton);
