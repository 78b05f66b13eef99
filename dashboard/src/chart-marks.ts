import type uPlot from 'uplot';
import type { EquipmentState } from '@linewatch/protocol';

/** An anomaly on the time axis; `critical` ones are drawn bolder. */
export interface AnomalyMark {
  id: string;
  ts: number;
  critical: boolean;
  wafer: boolean;
}

/** An alert transition on the time axis. */
export interface AlertLine {
  at: number;
  to: string;
}

/** A stretch of one equipment state, [from, to). */
export interface StateSpan {
  from: number;
  to: number;
  state: EquipmentState;
}

export interface ChartMarks {
  anomalies: AnomalyMark[];
  alerts: AlertLine[];
  states: StateSpan[];
  /** The anomaly whose contributors the panel shows, drawn highlighted. */
  chosen: string | null;
}

/** Colours the marks are drawn in, read from the theme's CSS variables. */
export interface MarkColours {
  alarm: string;
  warn: string;
  ok: string;
  muted: string;
  text: string;
  states: Record<EquipmentState, string>;
}

/** Short words inside the state band; the legend above the charts gives each with its E10 name as a tooltip. */
export const STATE_SHORT: Record<EquipmentState, string> = {
  PRODUCTIVE: 'PROD',
  STANDBY: 'SBY',
  ENGINEERING: 'ENG',
  SCHEDULED_DOWN: 'PM',
  UNSCHEDULED_DOWN: 'DOWN',
  NON_SCHEDULED: 'NS',
};

function alertColour(to: string, c: MarkColours): string {
  if (to === 'firing') return c.alarm;
  if (to === 'acknowledged') return c.warn;
  if (to === 'resolved') return c.ok;
  return c.muted;
}

/**
 * Draws on a chart what happened when: the equipment-state band along the bottom (`band` px high; 0 for none),
 * a vertical line at each alert transition, and a tick per anomaly along the top (a triangle: it reads without
 * colour). Everything outside the x range is skipped, so a long history costs only what is visible.
 */
export function marksPlugin(marks: () => ChartMarks, colours: () => MarkColours, band: number): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const ctx = u.ctx;
        const { left, top, width, height } = u.bbox;
        const min = u.scales.x?.min ?? 0;
        const max = u.scales.x?.max ?? 0;
        const x = (ts: number) => u.valToPos(ts, 'x', true);
        const c = colours();
        const m = marks();
        const dpr = devicePixelRatio || 1;
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        if (band > 0) {
          const h = band * dpr;
          ctx.font = `${Math.round(10 * dpr)}px system-ui, sans-serif`;
          ctx.textBaseline = 'middle';
          for (const span of m.states) {
            if (span.to < min || span.from > max) continue;
            const x0 = Math.max(left, x(span.from));
            const x1 = Math.min(left + width, x(span.to));
            ctx.fillStyle = c.states[span.state];
            ctx.fillRect(x0, top + height - h, Math.max(1, x1 - x0), h);
            const word = STATE_SHORT[span.state];
            if (x1 - x0 > ctx.measureText(word).width + 6 * dpr) {
              ctx.fillStyle = '#000';
              ctx.fillText(word, x0 + 3 * dpr, top + height - h / 2);
            }
          }
        }
        ctx.lineWidth = dpr;
        ctx.setLineDash([4 * dpr, 3 * dpr]);
        for (const a of m.alerts) {
          if (a.at < min || a.at > max) continue;
          ctx.strokeStyle = alertColour(a.to, c);
          ctx.beginPath();
          ctx.moveTo(x(a.at), top);
          ctx.lineTo(x(a.at), top + height);
          ctx.stroke();
        }
        ctx.setLineDash([]);
        const s = 6 * dpr;
        for (const a of m.anomalies) {
          if (a.ts < min || a.ts > max) continue;
          const px = x(a.ts);
          const chosen = a.id === m.chosen;
          ctx.fillStyle = a.critical ? c.alarm : c.warn;
          ctx.beginPath();
          ctx.moveTo(px - s, top);
          ctx.lineTo(px + s, top);
          ctx.lineTo(px, top + s * 1.6);
          ctx.closePath();
          ctx.fill();
          if (chosen) {
            ctx.strokeStyle = c.text;
            ctx.lineWidth = 2 * dpr;
            ctx.stroke();
            ctx.beginPath();
            ctx.moveTo(px, top);
            ctx.lineTo(px, top + height);
            ctx.stroke();
            ctx.lineWidth = dpr;
          }
        }
        ctx.restore();
      },
    },
  };
}

/** The anomaly nearest to a pixel on the x axis, within `slackPx`, or null: what a click on the chart picks. */
export function anomalyNear(marks: AnomalyMark[], pxOf: (ts: number) => number, px: number, slackPx = 8): AnomalyMark | null {
  let best: AnomalyMark | null = null;
  let bestDistance = slackPx;
  for (const mark of marks) {
    const distance = Math.abs(pxOf(mark.ts) - px);
    if (distance <= bestDistance) {
      best = mark;
      bestDistance = distance;
    }
  }
  return best;
}

/** State changes (oldest first) as spans, the last one running to `end`. */
export function stateSpans(changes: ReadonlyArray<{ ts: number; state: EquipmentState }>, end: number): StateSpan[] {
  const spans: StateSpan[] = [];
  changes.forEach((change, i) => {
    const next = changes[i + 1]?.ts ?? end;
    if (next > change.ts) spans.push({ from: change.ts, to: next, state: change.state });
  });
  return spans;
}
