import { byId, setText } from './dom.js';
import { formatAge } from './format.js';
import { t } from './i18n.js';
import type { LoadState } from './station-feed.js';
import { LAST_SPANS, LIVE, MAX_CUSTOM_MS, sameWindow, type TimeWindow } from './time-window.js';

/** `datetime-local` speaks local wall time without a zone; these convert to and from epoch ms. */
function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
function fromLocalInput(text: string): number {
  return text ? new Date(text).getTime() : Number.NaN;
}

/**
 * The station view's time-range picker: live, the last 15 min, 1 h or 24 h, or a custom range, with what the
 * history load is doing (loading, downsampled to what bucket, or why it failed).
 */
export class RangePicker {
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private readonly customForm = byId<HTMLFormElement>('range-custom');
  private readonly fromInput = byId<HTMLInputElement>('range-from');
  private readonly toInput = byId<HTMLInputElement>('range-to');
  private readonly status = byId('range-status');
  private current: TimeWindow = LIVE;
  /** A mistake in the custom form, shown until the form is sent again or closed. */
  private formError: 'range.badCustom' | 'range.tooLong' | null = null;

  constructor(private readonly choose: (w: TimeWindow) => void) {
    for (const button of byId('range-buttons').querySelectorAll<HTMLButtonElement>('button[data-range]')) {
      const range = button.dataset.range ?? '';
      this.buttons.set(range, button);
      button.addEventListener('click', () => {
        if (range === 'live') this.choose(LIVE);
        else if (range === 'custom') this.openCustom();
        else if ((LAST_SPANS as readonly string[]).includes(range)) this.choose({ kind: 'last', span: range as (typeof LAST_SPANS)[number] });
      });
    }
    this.customForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const from = fromLocalInput(this.fromInput.value);
      const to = fromLocalInput(this.toInput.value);
      this.formError = !Number.isFinite(from) || !Number.isFinite(to) || to <= from ? 'range.badCustom' : to - from > MAX_CUSTOM_MS ? 'range.tooLong' : null;
      if (this.formError) return this.say(t(this.formError), 'error');
      this.customForm.hidden = true;
      this.choose({ kind: 'custom', from, to });
    });
    byId('range-custom-cancel').addEventListener('click', () => {
      this.customForm.hidden = true;
      this.formError = null;
    });
  }

  /** `connected`: whether the live feed is up; a Live window without it is not live, and says so. */
  render(w: TimeWindow, load: LoadState, connected: boolean, now: number): void {
    const changed = !sameWindow(w, this.current);
    this.current = w;
    const pressed = w.kind === 'live' ? 'live' : w.kind === 'last' ? w.span : 'custom';
    for (const [range, button] of this.buttons) button.setAttribute('aria-pressed', String(range === pressed));
    if (changed && w.kind === 'custom') {
      this.fromInput.value = toLocalInput(w.from);
      this.toInput.value = toLocalInput(w.to);
    }
    this.status.dataset.load = load.kind;
    if (this.formError) return this.say(t(this.formError), 'error');
    if (load.kind === 'loading') this.say(t('range.loading'), 'info');
    else if (load.kind === 'failed') this.say(t('range.failed', { message: load.message, seconds: Math.max(0, Math.ceil((load.retryAt - now) / 1_000)) }), 'error');
    else if (w.kind === 'live' && !connected) this.say(t('range.notLive'), 'error');
    else if (load.kind === 'loaded') {
      const bucket = load.bucketMs ? t('range.bucketed', { bucket: formatAge(load.bucketMs) }) : t('range.raw');
      this.say(w.kind === 'live' ? t('range.live', { detail: bucket }) : bucket, 'info');
    } else this.say('', 'info');
  }

  private openCustom(): void {
    const now = Date.now();
    if (!this.fromInput.value) this.fromInput.value = toLocalInput(now - 3_600_000);
    if (!this.toInput.value) this.toInput.value = toLocalInput(now);
    this.customForm.hidden = false;
    this.fromInput.focus();
  }

  private say(text: string, kind: 'info' | 'error'): void {
    setText(this.status, text);
    this.status.dataset.kind = kind;
  }
}
