import { isReplayRunning } from '@linewatch/protocol';
import { formatDuration, formatPercent, formatSpeed } from './format.js';
import { t } from './i18n.js';
import type { DashboardState } from './line-store.js';
import { isReplayed } from './station-list.js';

export interface ReplayBannerText {
  /** The running replay, e.g. "REPLAY — demo.jsonl.gz at 10× · 45 % · ETA 1:02 — not live data". */
  replay: string | null;
  /** Replayed data on the live line (someone replayed into it, e.g. from the CLI). */
  liveLine: string | null;
}

/** What the replay banner says; both parts null means no banner. Pure, so the words are unit-tested. */
export function replayBannerText(state: DashboardState): ReplayBannerText {
  return { replay: runningReplay(state), liveLine: replayedOnLiveLine(state) };
}

function runningReplay(state: DashboardState): string | null {
  const status = state.replay.status;
  const run = status?.run;
  if (!status || !run || !isReplayRunning(status.state)) return null;
  const p = run.progress;
  let progress: string;
  if (status.state === 'starting') progress = t('replayBanner.starting');
  else if (status.state === 'stopping') progress = t('replayBanner.stopping');
  else if (p.fraction === null) progress = t('replayBanner.looping', { pass: p.pass + 1 });
  else progress = t('replayBanner.progress', { percent: formatPercent(p.fraction), eta: formatDuration(p.etaMs) });
  return t('replayBanner.running', { recording: run.recording, speed: formatSpeed(run.speed), progress, line: status.line });
}

function replayedOnLiveLine(state: DashboardState): string | null {
  const replayed = state.stations.filter(isReplayed).map((v) => v.meta.station);
  if (replayed.length === 0) return null;
  const stations = replayed.length <= 3 ? replayed.join(', ') : t('replayBanner.andMore', { stations: replayed.slice(0, 3).join(', '), more: replayed.length - 3 });
  return t(replayed.length === 1 ? 'replayBanner.liveLineOne' : 'replayBanner.liveLineMany', { line: state.line ?? '', stations });
}
