import type { RebaselineRequest } from '@linewatch/protocol';
import { ApiError, stationsApi } from './api-client.js';
import { byId, setText } from './dom.js';
import { formatClock } from './format.js';
import { t } from './i18n.js';
import type { StationSelection } from './line-store.js';
import type { TokenPrompt } from './token-prompt.js';

/** The wafers a re-baseline may take: what the API accepts. */
export const REBASELINE_WAFERS = { min: 1, max: 50, default: 5 } as const;

function badWafers(): string {
  return t('rebaseline.badWafers', { min: REBASELINE_WAFERS.min, max: REBASELINE_WAFERS.max });
}

/** The number of wafers typed in, or an error for people. */
export function parseWafers(text: string): number | string {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(n) || n < REBASELINE_WAFERS.min || n > REBASELINE_WAFERS.max) {
    return badWafers();
  }
  return n;
}

/**
 * The station view's “Re-baseline wafers” control: a first click asks to confirm (how many wafers, and why), the
 * confirmation sends `POST /api/stations/:station/baseline` with the page's API token (the one token prompt asks
 * for it, and the request goes out once it is given), and the result is said plainly under the button.
 */
export class RebaselineControl {
  private readonly openButton = byId<HTMLButtonElement>('rebaseline-open');
  private readonly form = byId<HTMLFormElement>('rebaseline-form');
  private readonly question = byId('rebaseline-question');
  private readonly wafers = byId<HTMLInputElement>('rebaseline-wafers');
  private readonly reason = byId<HTMLInputElement>('rebaseline-reason');
  private readonly confirmButton = byId<HTMLButtonElement>('rebaseline-confirm');
  private readonly message = byId('rebaseline-message');
  /** The station the control acts on, and its name for people. */
  private target: (StationSelection & { name: string }) | null = null;
  private confirming = false;
  private busy = false;
  /** Kept as a function of the language, so a message already shown follows a change of language. */
  private note: { text: () => string; error: boolean } | null = null;

  constructor(
    private readonly tokens: TokenPrompt,
    private readonly changed: () => void,
  ) {
    this.openButton.addEventListener('click', () => this.ask());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.confirm();
    });
    byId('rebaseline-cancel').addEventListener('click', () => {
      this.confirming = false;
      this.changed();
    });
  }

  /** `target`: the station in view; another station closes the question and forgets the last result. */
  render(target: (StationSelection & { name: string }) | null): void {
    const same = target !== null && this.target?.line === target.line && this.target.station === target.station;
    if (!same && !this.busy) {
      this.confirming = false;
      this.note = null;
    }
    if (!this.busy) this.target = target;
    this.openButton.disabled = this.busy || this.target === null;
    this.form.hidden = !this.confirming;
    this.confirmButton.disabled = this.busy;
    const name = this.target?.name ?? '';
    setText(this.question, t('rebaseline.question', { name }));
    setText(this.message, this.note?.text() ?? '');
    this.message.dataset.kind = this.note?.error ? 'error' : 'info';
  }

  private ask(): void {
    if (this.busy || this.target === null) return;
    this.confirming = true;
    this.note = null;
    if (!this.wafers.value) this.wafers.value = String(REBASELINE_WAFERS.default);
    this.changed();
    this.wafers.focus();
  }

  private confirm(): void {
    const target = this.target;
    if (target === null || this.busy) return;
    const wafers = parseWafers(this.wafers.value);
    if (typeof wafers === 'string') {
      this.say(badWafers, true);
      return;
    }
    const reason = this.reason.value.trim();
    this.send(target, { wafers, ...(reason ? { reason } : {}) });
  }

  private send(target: StationSelection & { name: string }, request: RebaselineRequest): void {
    const token = this.tokens.token();
    if (!token) {
      this.say(() => t('rebaseline.needToken'), true);
      this.tokens.ask(() => this.send(target, request));
      return;
    }
    this.busy = true;
    this.changed();
    stationsApi
      .rebaseline(token, target.line, target.station, request)
      .then((command) => {
        this.confirming = false;
        this.reason.value = '';
        this.say(() => t('rebaseline.sent', { time: formatClock(command.requestedAt), wafers: command.wafers, name: target.name, id: command.id }), false);
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.isAuth) {
          const { status, message } = err;
          this.say(() => t('rebaseline.refused', { status, message }), true);
          this.tokens.refused(() => this.send(target, request));
        } else {
          const message = err instanceof Error ? err.message : String(err);
          this.say(() => t('rebaseline.failed', { message }), true);
        }
      })
      .finally(() => {
        this.busy = false;
        this.changed();
      });
  }

  private say(text: () => string, error: boolean): void {
    this.note = { text, error };
    this.changed();
  }
}
