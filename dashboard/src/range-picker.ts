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
      if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return this.say(t('range.badCustom'), 'error');
      if (to - from > MAX_CUSTOM_MS) return this.say(t('range.tooLong'), 'error');
      this.customForm.hidden = true;
      this.choose({ kind: 'custom', from, to });
    });
    byId('range-custom-cancel').addEventListener('click', () => (this.customForm.hidden = true));
  }

  render(w: TimeWindow, load: LoadState): void {
    const changed = !sameWindow(w, this.current);
    this.current = w;
    const pressed = w.kind === 'live' ? 'live' : w.kind === 'last' ? w.span : 'custom';
    for (const [range, button] of this.buttons) button.setAttribute('aria-pressed', String(range === pressed));
    if (changed && w.kind === 'custom') {
      this.fromInput.value = toLocalInput(w.from);
      this.toInput.value = toLocalInput(w.to);
    }
    if (load.kind === 'loading') this.say(t('range.loading'), 'info');
    else if (load.kind === 'failed') this.say(t('range.failed', { message: load.message }), 'error');
    else if (load.kind === 'loaded') {
      const bucket = load.bucketMs ? t('range.bucketed', { bucket: formatAge(load.bucketMs) }) : t('range.raw');
      this.say(w.kind === 'live' ? t('range.live', { detail: bucket }) : bucket, 'info');
    } else this.say('', 'info');
    this.status.dataset.load = load.kind;
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
