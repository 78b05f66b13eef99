import { isReplayRunning } from '@linewatch/protocol';
import { formatDuration, formatPercent, formatSpeed } from './format.js';
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
  const where = `${run.recording} at ${formatSpeed(run.speed)}`;
  const p = run.progress;
  let how: string;
  if (status.state === 'starting') how = 'starting…';
  else if (status.state === 'stopping') how = 'stopping…';
  else if (p.fraction === null) how = `pass ${p.pass + 1} · looping`;
  else how = `${formatPercent(p.fraction)} · ETA ${formatDuration(p.etaMs)}`;
  return `REPLAY — ${where} · ${how} — into line ${status.line}, not live data`;
}

function replayedOnLiveLine(state: DashboardState): string | null {
  const replayed = state.stations.filter(isReplayed).map((v) => v.meta.station);
  if (replayed.length === 0) return null;
  const which = replayed.length <= 3 ? replayed.join(', ') : `${replayed.slice(0, 3).join(', ')} and ${replayed.length - 3} more`;
  return `REPLAYED DATA ON THE LIVE LINE ${state.line ?? ''} — ${which} ${replayed.length === 1 ? 'shows' : 'show'} replayed readings, not live data`;
}
