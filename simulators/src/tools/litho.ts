import { sensorsOf, type ToolModel } from './types.js';

/** ArF immersion scanner: wafer stage, excimer laser source, projection lens and immersion hood. */
type L = 'speed' | 'dose' | 'rep' | 'focus' | 'lens' | 'table' | 'water';
const s = sensorsOf<L>();

export const LITHO: ToolModel<L> = {
  type: 'litho',
  latents: {
    speed: { idle: 0, tau: 1, rel: 0.003 },
    dose: { idle: 0, tau: 1, rel: 0.002 },
    rep: { idle: 0, tau: 1, rel: 0.001 },
    focus: { idle: 0, tau: 2, abs: 6 },
    // Lens heating under exposure is slow and compensated, so only a fraction of a degree.
    lens: { idle: 22, tau: 40, rel: 0.00005 },
    table: { idle: 22, tau: 30, rel: 0.00005 },
    water: { idle: 0, tau: 1, rel: 0.005 },
  },
  recipes: [
    {
      name: 'LITHO-M1-ARF',
      steps: [
        { name: 'wafer_load', seconds: 6, targets: {} },
        { name: 'align', seconds: 8, targets: { speed: 120, water: 1.5, lens: 22.05 } },
        { name: 'expose', seconds: 45, targets: { speed: 700, dose: 30, rep: 6, water: 1.5, lens: 22.15, table: 22.02 } },
        { name: 'wafer_unload', seconds: 5, targets: {} },
      ],
    },
    {
      name: 'LITHO-V1-ARF',
      steps: [
        { name: 'wafer_load', seconds: 6, targets: {} },
        { name: 'align', seconds: 8, targets: { speed: 120, water: 1.5, lens: 22.05 } },
        { name: 'expose', seconds: 50, targets: { speed: 600, dose: 38, rep: 6, water: 1.5, lens: 22.18, table: 22.02 } },
        { name: 'wafer_unload', seconds: 5, targets: {} },
      ],
    },
  ],
  idleSeconds: 5,
  lotChangeSeconds: 25,
  sensors: [
    s('stage_x_error', 'nm', [0, 20], 0.08, 'speed', (x) => 0.5 + 0.0035 * x.speed, 'moving-average servo error'),
    s('stage_y_error', 'nm', [0, 20], 0.08, 'speed', (x) => 0.4 + 0.003 * x.speed, 'moving-average servo error'),
    s('stage_msd', 'nm', [0, 20], 0.1, 'speed', (x) => 0.8 + 0.004 * x.speed, 'moving std of servo error'),
    s('stage_speed', 'mm/s', [0, 1000], 1, 'speed', (x) => x.speed),
    s('dose', 'mJ/cm2', [0, 100], 0.05, 'dose', (x) => 0.2 + x.dose),
    s('laser_pulse_energy', 'mJ', [0, 20], 0.03, 'dose', (x) => 0.3 + 0.33 * x.dose),
    s('laser_rep_rate', 'kHz', [0, 6.5], 0.005, 'rep', (x) => x.rep),
    s('focus_error', 'nm', [-100, 100], 1.5, 'focus', (x) => x.focus + 0.002 * x.speed),
    s('lens_temp', 'C', [20, 25], 0.003, 'lens', (x) => x.lens),
    s('reticle_temp', 'C', [20, 25], 0.004, 'lens', (x) => 22 + 0.5 * (x.lens - 22) + 0.002 * x.dose),
    s('wafer_table_temp', 'C', [20, 25], 0.003, 'table', (x) => x.table + 0.2 * (x.lens - 22)),
    s('immersion_water_flow', 'L/min', [0, 5], 0.01, 'water', (x) => x.water),
    s('immersion_water_temp', 'C', [20, 25], 0.002, 'water', (x) => 22 + 0.01 * x.water + 0.1 * (x.table - 22)),
  ],
};
