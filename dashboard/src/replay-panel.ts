import { isReplayRunning, type RecordingInfo, type ReplayRequest, type ReplayStatus } from '@linewatch/protocol';
import { ApiError, replayApi } from './api-client.js';
import { byId, el, setText } from './dom.js';
import { formatDuration, formatSpeed } from './format.js';
import { language, t } from './i18n.js';
import type { DashboardState } from './line-store.js';
import type { TokenPrompt } from './token-prompt.js';

type Action = () => Promise<void>;
/** A message as a function of the language, so one already shown follows a change of language. */
type Note = { text: () => string; error: boolean };

function describeRecording(r: RecordingInfo): string {
  if (r.error) return t('replay.cannotReplay', { name: r.name, error: r.error });
  const stations = t(r.stations.length === 1 ? 'replay.stationOne' : 'replay.stationMany', { n: r.stations.length });
  const labels = r.labels && r.labels !== 'none' ? ` · ${t(r.labels === 'points' ? 'replay.labelled' : 'replay.withFaults')}` : '';
  return `${r.name} — ${formatDuration(r.durationMs)} · ${stations}${labels}`;
}

function describeEnd(status: ReplayStatus): string {
  const run = status.run;
  const result = run?.result;
  if (!run || !result) return '';
  const what = t('replay.last', { recording: run.recording, speed: formatSpeed(run.speed) });
  if (result.outcome === 'failed') return t('replay.lastFailed', { what, error: result.error ?? t('replay.unknownError') });
  const outcome = t(result.outcome === 'completed' ? 'replay.outcome.completed' : 'replay.outcome.stopped');
  const unconfirmed = result.errors + result.unacked;
  return unconfirmed > 0
    ? t('replay.lastEndedUnconfirmed', { what, outcome, sent: result.sent, unconfirmed })
    : t('replay.lastEnded', { what, outcome, sent: result.sent });
}

/**
 * The replay controls: pick a recording and a speed, start and stop. Starting and stopping need the API token,
 * taken from the page URL (`#token=...`) or asked for once by the token prompt; a refusal says so plainly.
 */
export class ReplayPanel {
  private readonly recording = byId<HTMLSelectElement>('replay-recording');
  private readonly speed = byId<HTMLSelectElement>('replay-speed');
  private readonly startButton = byId<HTMLButtonElement>('replay-start');
  private readonly stopButton = byId<HTMLButtonElement>('replay-stop');
  private readonly message = byId('replay-message');
  private recordings: RecordingInfo[] = [];
  private signature = '';
  private busy = false;
  private running = false;
  /** The message of the user's last action; it gives way to the replay's own news when that changes. */
  private note: Note | null = null;
  private lastSeen = '';

  constructor(
    private readonly tokens: TokenPrompt,
    private readonly changed: () => void,
  ) {
    this.startButton.addEventListener('click', () => this.act(() => this.start()));
    this.stopButton.addEventListener('click', () => this.act(() => this.stop()));
    this.recording.addEventListener('focus', () => void this.loadRecordings());
  }

  /** Says something about the token, which lives in this panel's bar. */
  tokenNotice(text: () => string): void {
    this.say(text, false);
  }

  /** Fills the recording list; keeps the choice when the list is read again. */
  async loadRecordings(): Promise<void> {
    try {
      this.recordings = await replayApi.recordings();
    } catch (err) {
      const message = (err as Error).message;
      this.say(() => t('replay.cannotList', { message }), true);
      return;
    }
    if (this.fillRecordings()) this.changed();
  }

  /** Rebuilds the options when the list or the language changed; true when it did. */
  private fillRecordings(): boolean {
    // Rebuilding the options of an open select would close it under the user's pointer: only on a change.
    const signature = JSON.stringify([language(), this.recordings.map((r) => [r.name, r.error, r.bytes])]);
    if (signature === this.signature) return false;
    this.signature = signature;
    const chosen = this.recording.value;
    const options = this.recordings.map((r) => {
      const option = el('option', undefined, describeRecording(r));
      option.value = r.name;
      option.disabled = r.error !== null;
      return option;
    });
    if (options.length === 0) {
      const none = el('option', undefined, t('replay.noRecordings'));
      none.value = '';
      options.push(none);
    }
    this.recording.replaceChildren(...options);
    const keep = this.recordings.find((r) => r.name === chosen && !r.error) ?? this.recordings.find((r) => !r.error);
    this.recording.value = keep?.name ?? '';
    return true;
  }

  render(state: DashboardState): void {
    // Before the first answer the list holds the page's own `loading…`, which the static texts translate.
    if (this.signature !== '') this.fillRecordings();
    const status = state.replay.status;
    this.running = status !== null && isReplayRunning(status.state);
    const seen = `${status?.run?.id ?? ''}/${status?.state ?? ''}`;
    if (seen !== this.lastSeen) {
      const ended = this.lastSeen !== '' && status !== null && !this.running && status.run !== null;
      this.lastSeen = seen;
      if (ended) {
        this.note = null;
        void this.loadRecordings();
      }
    }
    this.startButton.disabled = this.busy || this.running || this.recording.value === '';
    this.stopButton.disabled = this.busy || !this.running;
    this.speed.disabled = this.running;
    this.recording.disabled = this.running;
    const text = this.note?.text() ?? (status && !this.running ? describeEnd(status) : '');
    setText(this.message, text);
    this.message.dataset.kind = this.note?.error || (!this.note && status?.state === 'failed') ? 'error' : 'info';
  }

  private async start(): Promise<void> {
    const speed = this.speed.value === 'max' ? 'max' : Number(this.speed.value);
    const request: ReplayRequest = { recording: this.recording.value, speed };
    await replayApi.start(this.token(), request);
    this.say(() => t('replay.started', { recording: request.recording, speed: formatSpeed(speed) }), false);
  }

  private async stop(): Promise<void> {
    await replayApi.stop(this.token());
    this.note = null;
  }

  private token(): string | null {
    return this.tokens.token();
  }

  /** Runs a button's action: asks for the token first when there is none, and turns failures into plain words. */
  private act(action: Action): void {
    if (this.busy) return;
    if (!this.token()) {
      this.say(() => t('replay.needToken'), true);
      this.tokens.ask(() => this.act(action));
      return;
    }
    this.busy = true;
    this.changed();
    action()
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.isAuth) {
          const { status, message } = err;
          this.say(() => t('replay.refused', { status, message }), true);
          this.tokens.refused(() => this.act(action));
        } else {
          const message = err instanceof Error ? err.message : String(err);
          this.say(() => message, true);
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
