import { sensorsOf, type ToolModel } from './types.js';

/** Copper CMP: rotating platen and carrier head, slurry dispense, in-situ pad conditioning. */
type L = 'platen' | 'head' | 'down' | 'slurry' | 'diw' | 'cond' | 'pad' | 'fric';
const s = sensorsOf<L>();

export const CMP: ToolModel<L> = {
  type: 'cmp',
  latents: {
    platen: { idle: 0, tau: 1, rel: 0.002 },
    head: { idle: 0, tau: 1, rel: 0.002 },
    down: { idle: 0, tau: 1, rel: 0.005 },
    slurry: { idle: 0, tau: 1, rel: 0.01 },
    diw: { idle: 0, tau: 1, rel: 0.01 },
    cond: { idle: 0, tau: 1, rel: 0.01 },
    // Pad surface heats with friction power; slow thermal mass.
    pad: { idle: 26, tau: 12, rel: 0.004 },
    // Pad-wafer friction coefficient (pad glazing, slurry chemistry): a pure disturbance around 1.
    fric: { idle: 1, tau: 10, rel: 0.03 },
  },
  recipes: [
    {
      name: 'CMP-CU-01',
      steps: [
        { name: 'wafer_load', seconds: 5, targets: {} },
        { name: 'ramp_up', seconds: 4, targets: { platen: 93, head: 87, slurry: 200, down: 1, pad: 30 } },
        { name: 'main_polish', seconds: 40, targets: { platen: 93, head: 87, slurry: 200, down: 3, cond: 7, pad: 44 } },
        { name: 'over_polish', seconds: 10, targets: { platen: 93, head: 87, slurry: 150, down: 1.5, cond: 7, pad: 38 } },
        { name: 'rinse', seconds: 8, targets: { platen: 60, head: 55, diw: 500, down: 0.5, pad: 30 } },
        { name: 'wafer_unload', seconds: 4, targets: {} },
      ],
    },
  ],
  idleSeconds: 6,
  lotChangeSeconds: 30,
  sensors: [
    s('platen_speed', 'rpm', [0, 150], 0.2, 'platen', (x) => x.platen),
    s('head_speed', 'rpm', [0, 150], 0.2, 'head', (x) => x.head),
    s('downforce', 'psi', [0, 10], 0.02, 'down', (x) => x.down),
    s('retaining_ring_pressure', 'psi', [0, 10], 0.02, 'down', (x) => 0.3 + 0.8 * x.down),
    s('platen_motor_current', 'A', [0, 40], 0.08, 'down', (x) => 1.5 + 0.03 * x.platen + 1.6 * x.down + 4.8 * (x.fric - 1)),
    s('head_motor_current', 'A', [0, 20], 0.05, 'down', (x) => 0.8 + 0.01 * x.head + 0.5 * x.down + 1.5 * (x.fric - 1)),
    s('vibration', 'mm/s', [0, 20], 0.04, 'down', (x) => 0.25 + 0.005 * x.platen + 0.18 * x.down + 0.5 * (x.fric - 1)),
    s('slurry_flow', 'ml/min', [0, 400], 1, 'slurry', (x) => x.slurry),
    s('diw_flow', 'ml/min', [0, 1000], 2, 'diw', (x) => x.diw),
    s('pad_temp', 'C', [15, 80], 0.1, 'pad', (x) => x.pad),
    s('slurry_temp', 'C', [15, 40], 0.05, 'pad', (x) => 22 + 0.05 * (x.pad - 26)),
    s('conditioner_downforce', 'lbf', [0, 15], 0.05, 'cond', (x) => x.cond),
    s('conditioner_motor_current', 'A', [0, 10], 0.03, 'cond', (x) => 0.4 + 0.22 * x.cond + 1.5 * (x.fric - 1)),
  ],
};
