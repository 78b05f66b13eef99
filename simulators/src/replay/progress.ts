import type { ReplaySpeed } from './timeline.js';

/** Where a replay is, as the terminal, logs and the API show it. */
export interface ReplayProgress {
  /** Entries handed to the broker so far, over all passes. */
  sent: number;
  /** Entries a full replay sends; null when looping (it has no end). */
  total: number | null;
  /** QoS 1 publishes the broker acknowledged, and publishes that failed. */
  acked: number;
  errors: number;
  /** Loop pass, from 0. */
  pass: number;
  /** Wall-clock epoch ms the replay started. */
  startedAt: number;
  /** Estimated ms until the end; null when unknown (looping, or nothing sent yet at `max`). */
  etaMs: number | null;
  speed: ReplaySpeed;
  /** The recording (or store range) playing now. */
  file: string | null;
  /** Data time of the latest entry sent, after shifting. */
  dataAt: number | null;
  state: 'starting' | 'playing' | 'stopping' | 'completed' | 'stopped' | 'failed';
}

export interface EtaInput {
  sent: number;
  total: number | null;
  elapsedMs: number;
  speed: ReplaySpeed;
  /** Data-clock ms left to play, when the segments' ranges are known; paced replays use it. */
  remainingDataMs?: number | undefined;
}

/**
 * ETA of a replay. A paced replay ends when its data clock runs out, so its ETA is the data left divided by the
 * speed: exact from the start, even while the first burst of meta and state goes out. Otherwise (speed `max`, or
 * ranges unknown) the ETA extrapolates the rate so far.
 */
export function estimateEtaMs({ sent, total, elapsedMs, speed, remainingDataMs }: EtaInput): number | null {
  if (total === null) return null;
  if (sent >= total) return 0;
  if (speed !== 'max' && remainingDataMs !== undefined) return Math.max(0, Math.round(remainingDataMs / speed));
  if (sent === 0 || elapsedMs <= 0) return null;
  return Math.round((elapsedMs * (total - sent)) / sent);
}

/** `1:02:03`, `4:05`, or `--:--` when unknown. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '--:--';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** One line of progress: a bar when the total is known, else a counter; always the rate and the ETA. */
export function progressLine(p: ReplayProgress, now: number, barWidth = 24): string {
  const elapsedS = Math.max(0.001, (now - p.startedAt) / 1000);
  const rate = `${Math.round(p.sent / elapsedS)}/s`;
  const speed = p.speed === 'max' ? 'max' : `${p.speed}x`;
  const where = p.file ? ` ${p.file}` : '';
  if (p.total === null) return `replay ${speed} pass ${p.pass + 1}: ${p.sent} sent, ${rate}${where}`;
  const share = p.total === 0 ? 1 : Math.min(1, p.sent / p.total);
  const filled = Math.round(share * barWidth);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  return `${bar} ${(share * 100).toFixed(0).padStart(3)}% ${p.sent}/${p.total} ${rate} ${speed} ETA ${formatDuration(p.etaMs)}${where}`;
}
