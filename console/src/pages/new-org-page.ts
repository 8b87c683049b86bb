import { LitElement, html } from 'lit';
import { api } from '../data/api';
import { href, navigate } from '../router';
import { shared } from '../styles';
import { describedBy, fieldError, focusFirstInvalid, formError, invalid, noProblem, problemOf, type FormProblem } from '../components/form-errors';

/**
 * A new organisation (its own apps, team and plan). Reached from the header on every page;
 * on success the console moves into the new organisation and says so.
 */
export class NewOrgPage extends LitElement {
  static override styles = shared;
  static override properties = { first: { type: Boolean }, problem: { state: true }, busy: { state: true } };
  /** The person belongs to no organisation yet (removed from their last one). */
  declare first: boolean;
  declare problem: FormProblem;
  declare busy: boolean;

  constructor() {
    super();
    this.first = false;
    this.problem = noProblem;
    this.busy = false;
  }

  override async firstUpdated() {
    this.renderRoot.querySelector<HTMLInputElement>('#org')?.focus();
  }

  private async create(e: SubmitEvent) {
    e.preventDefault();
    const name = String(new FormData(e.target as HTMLFormElement).get('name') ?? '').trim();
    this.busy = true;
    this.problem = noProblem;
    try {
      const t = await api.createTenant(name);
      this.dispatchEvent(new CustomEvent('me-changed', { detail: await api.me(), bubbles: true, composed: true }));
      this.dispatchEvent(new CustomEvent('flash', { detail: `Organisation “${t.name}” created. You're its owner: add an app, or invite your team.`, bubbles: true, composed: true }));
      navigate(href('t', t.id, 'apps'));
    } catch (err) {
      this.problem = problemOf(err, { name: 'name' });
      void focusFirstInvalid(this);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<form class="card" @submit=${this.create} aria-labelledby="new-org-title" style="max-width:34rem">
      <h1 id="new-org-title">${this.first ? 'Create an organisation' : 'New organisation'}</h1>
      <p class="muted">${this.first ? "You're not a member of any organisation yet. " : ''}An organisation keeps its own apps, team and plan apart, for a client or a project.</p>
      <label for="org">Name</label>
      <input id="org" name="name" required maxlength="100" autocomplete="organization"
        aria-invalid=${invalid(this.problem, 'name')} aria-describedby=${describedBy(this.problem, 'name')} />
      ${fieldError(this.problem, 'name')}
      ${formError(this.problem)}
      <p class="row"><button type="submit" ?disabled=${this.busy}>${this.busy ? 'Creating…' : 'Create organisation'}</button>
        ${this.first ? '' : html`<a href=${href('')}>Cancel</a>`}</p>
    </form>`;
  }
}
customElements.get('wsl-new-org-page') ?? customElements.define('wsl-new-org-page', NewOrgPage);
