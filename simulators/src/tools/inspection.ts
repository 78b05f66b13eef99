import { sensorsOf, type ToolModel } from './types.js';

/** Brightfield optical wafer inspection: scanning stage, laser illumination, autofocus, vacuum chuck. */
type L = 'speed' | 'laser' | 'focus' | 'vac' | 'temp';
const s = sensorsOf<L>();

export const INSPECTION: ToolModel<L> = {
  type: 'inspection',
  latents: {
    speed: { idle: 0, tau: 1, rel: 0.003 },
    laser: { idle: 50, tau: 1, rel: 0.004 },
    focus: { idle: 0, tau: 1.5, abs: 8 },
    vac: { idle: 0, tau: 1, rel: 0.004 },
    temp: { idle: 22, tau: 30, rel: 0.0002 },
  },
  recipes: [
    {
      name: 'INSP-BF-M1',
      steps: [
        { name: 'wafer_load', seconds: 5, targets: { vac: 85 } },
        { name: 'align', seconds: 6, targets: { speed: 20, laser: 200, vac: 85 } },
        { name: 'scan', seconds: 30, targets: { speed: 300, laser: 800, vac: 85, temp: 22.05 } },
        { name: 'review', seconds: 10, targets: { speed: 50, laser: 500, vac: 85 } },
        { name: 'wafer_unload', seconds: 4, targets: {} },
      ],
    },
  ],
  idleSeconds: 6,
  lotChangeSeconds: 30,
  sensors: [
    s('stage_speed', 'mm/s', [0, 500], 0.5, 'speed', (x) => x.speed),
    s('stage_motor_current', 'A', [0, 10], 0.02, 'speed', (x) => 0.4 + 0.008 * x.speed),
    s('stage_vibration', 'mm/s', [0, 5], 0.005, 'speed', (x) => 0.05 + 0.0006 * x.speed),
    s('laser_power', 'mW', [0, 1000], 0.5, 'laser', (x) => x.laser),
    s('detector_signal', 'a.u.', [0, 5000], 4, 'laser', (x) => 50 + 3.1 * x.laser),
    s('autofocus_error', 'nm', [-200, 200], 3, 'focus', (x) => x.focus + 0.01 * x.speed),
    s('chuck_vacuum', 'kPa', [0, 101], 0.1, 'vac', (x) => x.vac, 'vacuum below atmosphere'),
    s('chamber_temp', 'C', [15, 30], 0.01, 'temp', (x) => x.temp + 0.0001 * x.laser),
  ],
};
