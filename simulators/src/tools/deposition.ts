import { sensorsOf, type ToolModel } from './types.js';

/** PECVD silicon oxide (SiH4/N2O) on a 400 C heater with showerhead RF. */
type L = 'rf' | 'p' | 'sih4' | 'n2o' | 'valve' | 'heater';
const s = sensorsOf<L>();
const gasDev = (x: { sih4: number; n2o: number }, sp: { sih4: number; n2o: number }): number => x.sih4 + x.n2o - (sp.sih4 + sp.n2o);

export const DEPOSITION: ToolModel<L> = {
  type: 'deposition',
  latents: {
    rf: { idle: 0, tau: 1, rel: 0.004 },
    p: { idle: 0.01, tau: 1, rel: 0.008 },
    sih4: { idle: 0, tau: 1, rel: 0.005 },
    n2o: { idle: 0, tau: 1, rel: 0.005 },
    valve: { idle: 95, tau: 1, rel: 0.01 },
    heater: { idle: 400, tau: 30, rel: 0.0005 },
  },
  recipes: [
    {
      name: 'PECVD-OX-500',
      steps: [
        { name: 'pump_down', seconds: 6, targets: {} },
        { name: 'gas_stabilize', seconds: 10, targets: { p: 2.5, sih4: 200, n2o: 3000, valve: 40 } },
        { name: 'deposit', seconds: 35, targets: { rf: 650, p: 2.5, sih4: 200, n2o: 3000, valve: 40 } },
        { name: 'purge', seconds: 6, targets: { p: 2, n2o: 2000, valve: 45 } },
        { name: 'pump_out', seconds: 5, targets: {} },
      ],
    },
  ],
  idleSeconds: 8,
  lotChangeSeconds: 30,
  sensors: [
    s('rf_forward_power', 'W', [0, 2000], 2, 'rf', (x) => x.rf),
    s('rf_reflected_power', 'W', [0, 200], 0.3, 'rf', (x) => 0.5 + 0.01 * x.rf),
    s('plasma_emission', 'a.u.', [0, 5000], 5, 'rf', (x) => 10 + 1.9 * x.rf + 0.05 * x.sih4),
    s('chamber_pressure', 'Torr', [0, 10], 0.005, 'p', (x, sp) => x.p + 0.0004 * gasDev(x, sp)),
    s('throttle_valve_pos', '%', [0, 100], 0.3, 'valve', (x, sp) => x.valve + 0.004 * gasDev(x, sp)),
    s('foreline_pressure', 'Torr', [0, 5], 0.002, 'n2o', (x) => 0.05 + 0.0001 * (x.sih4 + x.n2o)),
    s('sih4_flow', 'sccm', [0, 1000], 0.5, 'sih4', (x) => x.sih4),
    s('n2o_flow', 'sccm', [0, 10000], 5, 'n2o', (x) => x.n2o),
    s('heater_temp', 'C', [0, 500], 0.1, 'heater', (x) => x.heater + 0.003 * x.rf),
    s('heater_power', '%', [0, 100], 0.2, 'rf', (x) => 40 + 2 * (x.heater - 400) - 0.008 * x.rf - 0.002 * x.n2o, 'plasma heat and gas cooling change heater demand'),
    s('showerhead_temp', 'C', [0, 300], 0.2, 'rf', (x) => 180 + 0.02 * x.rf),
  ],
};
