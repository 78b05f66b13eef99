import { byId } from './dom.js';
import { t } from './i18n.js';
import { forgetToken, readToken, saveToken } from './token.js';

/**
 * The page's one API token form (in the top bar), shared by everything that needs the token: replay control and
 * acknowledging alerts. A control asks when it has no token or the API refused the one it had; what the user
 * tried runs again once a token is given, so nobody has to click twice.
 */
export class TokenPrompt {
  private readonly form = byId<HTMLFormElement>('replay-token-form');
  private readonly input = byId<HTMLInputElement>('replay-token-input');
  private readonly set = byId('replay-token-set');
  /** What the latest ask wanted to do; one at a time, the latest wins. */
  private retry: (() => void) | null = null;
  /** The form shows from the next render on, in the same frame as the asker's message, and takes the cursor then. */
  private asking = false;
  private focusPending = false;

  /**
   * `notice` tells what happened to the token, next to the form: a function of the language, so the message follows
   * a change of language while it shows.
   */
  constructor(
    private readonly storage: Storage,
    private readonly changed: () => void,
    private readonly notice: (text: () => string) => void,
  ) {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = this.input.value.trim();
      if (!token) return;
      saveToken(this.storage, token);
      this.input.value = '';
      const retry = this.retry;
      this.retry = null;
      this.asking = false;
      this.notice(() => t('token.saved'));
      this.changed();
      retry?.();
    });
    byId('replay-token-forget').addEventListener('click', () => {
      forgetToken(this.storage);
      this.notice(() => t('token.forgotten'));
      this.changed();
    });
  }

  token(): string | null {
    return readToken(this.storage);
  }

  /** Shows the form and puts the cursor in it; `retry` runs once a token is saved. */
  ask(retry: () => void): void {
    this.retry = retry;
    this.asking = true;
    this.focusPending = true;
    this.changed();
  }

  /** The API refused the token (401/403): it is wrong or stale, so forget it and ask for another. */
  refused(retry: () => void): void {
    forgetToken(this.storage);
    this.ask(retry);
  }

  render(): void {
    const hasToken = this.token() !== null;
    this.set.hidden = !hasToken;
    const show = this.asking && !hasToken;
    this.form.hidden = !show;
    if (show && this.focusPending) this.input.focus();
    this.focusPending = false;
  }
}
