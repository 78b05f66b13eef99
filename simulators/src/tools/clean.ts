import { sensorsOf, type ToolModel } from './types.js';

/** Single-wafer wet clean (SC1 with megasonics), DI rinse and N2 spin dry. */
type L = 'spin' | 'chem' | 'diw' | 'temp' | 'mega' | 'n2' | 'exhaust';
const s = sensorsOf<L>();

export const CLEAN: ToolModel<L> = {
  type: 'clean',
  latents: {
    spin: { idle: 0, tau: 1, rel: 0.002 },
    chem: { idle: 0, tau: 1, rel: 0.006 },
    diw: { idle: 0, tau: 1, rel: 0.006 },
    // Nozzle temperature: the dispense line cools while idle and reheats on flow.
    temp: { idle: 50, tau: 4, rel: 0.003 },
    mega: { idle: 0, tau: 1, rel: 0.005 },
    n2: { idle: 0, tau: 1, rel: 0.008 },
    exhaust: { idle: 180, tau: 10, rel: 0.01 },
  },
  recipes: [
    {
      name: 'SC1-MEGA-01',
      steps: [
        { name: 'wafer_load', seconds: 4, targets: {} },
        { name: 'prewet', seconds: 5, targets: { spin: 500, diw: 1500 } },
        { name: 'chem_dispense', seconds: 20, targets: { spin: 800, chem: 1200, temp: 65, mega: 300 } },
        { name: 'rinse', seconds: 15, targets: { spin: 1000, diw: 2000, temp: 55 } },
        { name: 'spin_dry', seconds: 12, targets: { spin: 2500, n2: 80 } },
        { name: 'wafer_unload', seconds: 4, targets: {} },
      ],
    },
  ],
  idleSeconds: 6,
  lotChangeSeconds: 30,
  sensors: [
    s('spin_speed', 'rpm', [0, 3000], 3, 'spin', (x) => x.spin),
    s('spin_motor_current', 'A', [0, 10], 0.02, 'spin', (x) => 0.3 + 0.0012 * x.spin + 0.0001 * (x.chem + x.diw)),
    s('bowl_vibration', 'mm/s', [0, 20], 0.02, 'spin', (x) => 0.1 + 0.0009 * x.spin),
    s('chemical_flow', 'ml/min', [0, 2000], 2, 'chem', (x) => x.chem),
    s('chemical_temp', 'C', [20, 90], 0.1, 'temp', (x) => x.temp),
    s('dispense_pressure', 'psi', [0, 60], 0.1, 'chem', (x) => 5 + 0.025 * x.chem + 0.02 * x.diw),
    s('diw_flow', 'ml/min', [0, 3000], 3, 'diw', (x) => x.diw),
    s('megasonic_power', 'W', [0, 500], 1, 'mega', (x) => x.mega),
    s('megasonic_reflected', 'W', [0, 100], 0.2, 'mega', (x) => 1 + 0.03 * x.mega),
    s('n2_flow', 'slm', [0, 200], 0.3, 'n2', (x) => x.n2),
    s('exhaust_pressure', 'Pa', [0, 500], 1, 'exhaust', (x) => x.exhaust + 0.02 * x.spin - 0.05 * x.n2, 'bowl exhaust differential pressure'),
  ],
};
