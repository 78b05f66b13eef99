import type { EquipmentState } from '@linewatch/protocol';
import type { MarkColours } from './chart-marks.js';

/** Colours a chart is drawn in, from the page theme's CSS variables: a theme switch rebuilds the charts. */
export interface ChartTheme extends MarkColours {
  grid: string;
  axis: string;
  /** One per series, told apart by dash too (see SERIES_DASH), so no line is known by colour alone. */
  series: string[];
}

/** Dash patterns cycled with the colours: the 2nd line of a chart differs from the 1st in shape as well. */
export const SERIES_DASH: number[][] = [[], [6, 3], [2, 3], [10, 3, 2, 3]];

const STATE_VARIABLES: Record<EquipmentState, string> = {
  PRODUCTIVE: '--state-productive',
  STANDBY: '--state-standby',
  ENGINEERING: '--state-engineering',
  SCHEDULED_DOWN: '--state-scheduled-down',
  UNSCHEDULED_DOWN: '--state-unscheduled-down',
  NON_SCHEDULED: '--state-non-scheduled',
};

export function readChartTheme(root: Element = document.documentElement): ChartTheme {
  const style = getComputedStyle(root);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const states = Object.fromEntries(Object.entries(STATE_VARIABLES).map(([state, name]) => [state, v(name, '#888')])) as Record<EquipmentState, string>;
  return {
    text: v('--text', '#e6edf3'),
    muted: v('--muted', '#8b98a5'),
    grid: v('--chart-grid', '#2d3540'),
    axis: v('--muted', '#8b98a5'),
    alarm: v('--alarm', '#f85149'),
    warn: v('--warn', '#d29922'),
    ok: v('--ok', '#2ea043'),
    series: [1, 2, 3, 4, 5, 6].map((i) => v(`--series-${i}`, '#58a6ff')),
    states,
  };
}
