import { html, nothing, type TemplateResult } from 'lit';
import { ApiFailure } from '../data/api';
import { focusAfterRender } from './focus';

/**
 * What went wrong with a form, in the shape the template needs: a reason per field (shown
 * beside the field, tied to it with aria-describedby) or, when no field is to blame, one
 * message for the whole form.
 */
export interface FormProblem {
  form: string;
  fields: Record<string, string>;
}

export const noProblem: FormProblem = { form: '', fields: {} };

/**
 * `fields` maps the request's field path (as the API names it, e.g. `allowedOrigins` or
 * `allowedOrigins.2`) to the form control's name; a path it doesn't know falls back to the
 * whole-form message, worded without the API's field path.
 */
export function problemOf(err: unknown, fields: Record<string, string>, labels: Record<string, string> = {}): FormProblem {
  if (err instanceof ApiFailure && err.field) {
    const path = err.field.name;
    const top = path.split('.')[0]!;
    const control = fields[path] ?? fields[top];
    const reason = capitalise(err.field.reason);
    if (control) return { form: '', fields: { [control]: reason } };
    return { form: labels[top] ? `${labels[top]}: ${err.field.reason}` : reason, fields: {} };
  }
  return { form: err instanceof Error ? err.message : 'Something went wrong.', fields: {} };
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `aria-invalid` for a control. */
export const invalid = (p: FormProblem, name: string) => (p.fields[name] ? 'true' : 'false');

/** `aria-describedby` for a control: its error when it has one, else its hint (if any). */
export const describedBy = (p: FormProblem, name: string, hintId?: string) => (p.fields[name] ? `${name}-error` : hintId ?? nothing);

/** The reason under a control, with the id `describedBy` points at. */
export const fieldError = (p: FormProblem, name: string): TemplateResult | typeof nothing =>
  p.fields[name] ? html`<p class="field-error" id="${name}-error">${p.fields[name]}</p>` : nothing;

/** The whole-form message. */
export const formError = (p: FormProblem): TemplateResult | typeof nothing => (p.form ? html`<div class="error" role="alert">${p.form}</div>` : nothing);

/** After a refused save, put the keyboard on the first control that needs fixing. */
export const focusFirstInvalid = (host: { updateComplete: Promise<unknown>; renderRoot: ParentNode }) => focusAfterRender(host, '[aria-invalid=true]');
