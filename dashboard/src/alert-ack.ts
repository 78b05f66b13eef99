import type { AlertView } from '@linewatch/protocol';
import { ApiError, alertsApi, type AckRequest } from './api-client.js';
import { byId, setText } from './dom.js';
import { t, type TextKey } from './i18n.js';
import type { TokenPrompt } from './token-prompt.js';

/** Who acknowledges, remembered on this computer: the same person acknowledges many alerts in a shift. */
export const ACK_BY_KEY = 'linewatch.ackBy';

type ByStorage = Pick<Storage, 'getItem' | 'setItem'>;

const STATE_WORD: Record<AlertView['state'], TextKey> = {
  pending: 'alerts.stateWord.pending',
  firing: 'alerts.stateWord.firing',
  acknowledged: 'alerts.stateWord.acknowledged',
  resolved: 'alerts.stateWord.resolved',
};

export function rememberedBy(storage: ByStorage): string {
  return storage.getItem(ACK_BY_KEY) ?? '';
}

export function rememberBy(storage: ByStorage, by: string): void {
  storage.setItem(ACK_BY_KEY, by.trim());
}

/**
 * Acknowledging from the page: one small form that opens inside the alert's row and asks who and why. It needs
 * the API token (the page's one token prompt asks for it); a refusal or a conflict is said plainly in the panel.
 */
export class AlertAck {
  private readonly form = byId<HTMLFormElement>('alert-ack-form');
  private readonly home = byId('alert-panel');
  private readonly title = byId('alert-ack-title');
  private readonly by = byId<HTMLInputElement>('alert-ack-by');
  private readonly comment = byId<HTMLInputElement>('alert-ack-comment');
  private readonly submitButton = byId<HTMLButtonElement>('alert-ack-submit');
  private readonly message = byId('alert-message');
  private alertId: string | null = null;
  /** Names the open form's alert for people (`Metal etch · model`); the title around it is in the page language. */
  private label = '';
  private busy = false;
  /** Kept as a function of the language, so a message already shown follows a change of language. */
  private note: { text: () => string; error: boolean } | null = null;

  constructor(
    private readonly tokens: TokenPrompt,
    private readonly people: ByStorage,
    private readonly changed: () => void,
  ) {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    byId('alert-ack-cancel').addEventListener('click', () => this.close());
  }

  /** The alert whose form is open, if any. */
  get openFor(): string | null {
    return this.alertId;
  }

  /** True while an acknowledgement is on its way: its row must not close the form under it. */
  get sending(): boolean {
    return this.busy;
  }

  /** Opens the form in `row` for `alert`; `label` names the alert for people (`Metal etch · model`). */
  open(alert: AlertView, row: HTMLElement, label: string): void {
    if (this.busy) return;
    this.alertId = alert.id;
    this.label = label;
    row.append(this.form);
    this.form.hidden = false;
    if (!this.by.value) this.by.value = rememberedBy(this.people);
    this.comment.value = '';
    (this.by.value ? this.comment : this.by).focus();
    this.changed();
  }

  close(): void {
    this.alertId = null;
    this.form.hidden = true;
    this.home.append(this.form);
    this.changed();
  }

  /** The alert was acknowledged or resolved elsewhere while the form was open. */
  gone(alert: AlertView | undefined): void {
    if (this.busy || this.alertId === null) return;
    this.close();
    this.say(() => (alert ? t('ack.goneState', { state: t(STATE_WORD[alert.state]) }) : t('ack.gone')), false);
  }

  render(): void {
    setText(this.title, this.alertId === null ? '' : t('ack.title', { label: this.label }));
    setText(this.message, this.note?.text() ?? '');
    this.message.dataset.kind = this.note?.error ? 'error' : 'info';
    this.submitButton.disabled = this.busy;
  }

  private submit(): void {
    const id = this.alertId;
    const by = this.by.value.trim();
    if (id === null || this.busy) return;
    if (!by) {
      this.say(() => t('ack.needBy'), true);
      this.by.focus();
      return;
    }
    rememberBy(this.people, by);
    this.send(id, { by, comment: this.comment.value.trim() });
  }

  private send(id: string, ack: AckRequest): void {
    const token = this.tokens.token();
    if (!token) {
      this.say(() => t('ack.needToken'), true);
      this.tokens.ask(() => this.send(id, ack));
      return;
    }
    this.busy = true;
    this.changed();
    alertsApi
      .acknowledge(token, id, ack)
      .then(() => {
        this.busy = false;
        this.close();
        this.say(() => t('ack.done', { by: ack.by }), false);
      })
      .catch((err: unknown) => {
        this.busy = false;
        if (err instanceof ApiError && err.isAuth) {
          const { status, message } = err;
          this.say(() => t('ack.refused', { status, message }), true);
          this.tokens.refused(() => this.send(id, ack));
        } else {
          const message = err instanceof Error ? err.message : String(err);
          this.say(() => t('ack.failed', { message }), true);
        }
      });
  }

  private say(text: () => string, error: boolean): void {
    this.note = { text, error };
    this.changed();
  }
}
