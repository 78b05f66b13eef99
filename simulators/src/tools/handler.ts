import { sensorsOf, type ToolModel } from './types.js';

/** Wafer handling (EFEM): load port with FOUP door and N2 purge, atmospheric robot, fan filter unit. */
type L = 'robot' | 'vac' | 'door' | 'n2' | 'ffu';
const s = sensorsOf<L>();

function handler(type: 'load' | 'unload'): ToolModel<L> {
  const fromFoup = type === 'load';
  return {
    type,
    latents: {
      robot: { idle: 0, tau: 1, rel: 0.01 },
      vac: { idle: 0, tau: 1, rel: 0.004 },
      door: { idle: 0, tau: 1, rel: 0.01 },
      n2: { idle: 5, tau: 1, rel: 0.01 },
      ffu: { idle: 5, tau: 20, rel: 0.01 },
    },
    recipes: [
      {
        name: fromFoup ? 'LOAD-STD' : 'UNLOAD-STD',
        steps: [
          { name: fromFoup ? 'dock' : 'pick_from_tool', seconds: 4, targets: fromFoup ? { door: 1, n2: 20 } : { robot: 60, vac: 80 } },
          { name: fromFoup ? 'map' : 'transfer', seconds: fromFoup ? 3 : 6, targets: fromFoup ? { robot: 20, n2: 20 } : { robot: 90, vac: 80 } },
          { name: fromFoup ? 'pick' : 'place_in_foup', seconds: 5, targets: { robot: 60, vac: fromFoup ? 80 : 30, n2: 20 } },
          { name: fromFoup ? 'transfer' : 'undock', seconds: fromFoup ? 6 : 4, targets: fromFoup ? { robot: 90, vac: 80, n2: 20 } : { door: 1, n2: 20 } },
          { name: fromFoup ? 'place_on_tool' : 'purge', seconds: 4, targets: fromFoup ? { robot: 40 } : { n2: 30 } },
        ],
      },
    ],
    idleSeconds: 10,
    lotChangeSeconds: 40,
    sensors: [
      s('robot_motor_current', 'A', [0, 15], 0.03, 'robot', (x) => 0.8 + 0.06 * x.robot),
      s('robot_vibration', 'mm/s', [0, 10], 0.01, 'robot', (x) => 0.1 + 0.012 * x.robot),
      s('robot_position_error', 'um', [0, 50], 0.2, 'robot', (x) => 2 + 0.05 * x.robot),
      s('end_effector_vacuum', 'kPa', [0, 101], 0.2, 'vac', (x) => x.vac, 'vacuum below atmosphere'),
      s('foup_door_motor_current', 'A', [0, 5], 0.02, 'door', (x) => 0.1 + 1.2 * x.door),
      s('n2_purge_flow', 'slm', [0, 50], 0.1, 'n2', (x) => x.n2),
      s('minienv_dp', 'Pa', [0, 20], 0.05, 'ffu', (x) => x.ffu - 0.01 * x.n2, 'mini-environment overpressure'),
      s('ffu_speed', 'rpm', [0, 2000], 2, 'ffu', (x) => 180 * x.ffu),
    ],
  };
}

export const LOAD = handler('load');
export const UNLOAD = handler('unload');
