import { sensorsOf, type ToolModel } from './types.js';

/** Metal (Al) etch in an inductively coupled Cl2/BCl3 chamber with electrostatic chuck and APC throttle valve. */
type L = 'rf' | 'p' | 'cl2' | 'bcl3' | 'valve' | 'he' | 'chuck' | 'film';
const s = sensorsOf<L>();
const gasDev = (x: { cl2: number; bcl3: number }, sp: { cl2: number; bcl3: number }): number => x.cl2 + x.bcl3 - (sp.cl2 + sp.bcl3);

export const ETCH: ToolModel<L> = {
  type: 'etch',
  latents: {
    rf: { idle: 0, tau: 1, rel: 0.004 },
    p: { idle: 0.8, tau: 1, rel: 0.01 },
    cl2: { idle: 0, tau: 1, rel: 0.005 },
    bcl3: { idle: 0, tau: 1, rel: 0.005 },
    // APC throttle valve: wide open while pumping to base, regulating during gas steps.
    valve: { idle: 95, tau: 1, rel: 0.01 },
    he: { idle: 0, tau: 1, rel: 0.006 },
    chuck: { idle: 60, tau: 20, rel: 0.002 },
    // Fraction of Al film still exposed: drives the AlCl endpoint emission.
    film: { idle: 0, tau: 1, rel: 0.02 },
  },
  recipes: [
    {
      name: 'ETCH-AL-01',
      steps: [
        { name: 'pump_down', seconds: 6, targets: { p: 0.8, valve: 95 } },
        { name: 'gas_stabilize', seconds: 8, targets: { p: 10, cl2: 80, bcl3: 40, valve: 36, he: 8 } },
        { name: 'main_etch', seconds: 30, targets: { rf: 900, p: 10, cl2: 80, bcl3: 40, valve: 36, he: 8, film: 1 } },
        { name: 'over_etch', seconds: 10, targets: { rf: 700, p: 12, cl2: 60, bcl3: 60, valve: 33, he: 8, film: 0.1 } },
        { name: 'purge', seconds: 6, targets: { p: 2, valve: 95 } },
      ],
    },
    {
      name: 'ETCH-AL-02',
      steps: [
        { name: 'pump_down', seconds: 6, targets: { p: 0.8, valve: 95 } },
        { name: 'gas_stabilize', seconds: 8, targets: { p: 8, cl2: 100, bcl3: 30, valve: 42, he: 10 } },
        { name: 'main_etch', seconds: 40, targets: { rf: 1100, p: 8, cl2: 100, bcl3: 30, valve: 42, he: 10, film: 1 } },
        { name: 'over_etch', seconds: 12, targets: { rf: 800, p: 10, cl2: 70, bcl3: 50, valve: 37, he: 10, film: 0.1 } },
        { name: 'purge', seconds: 6, targets: { p: 2, valve: 95 } },
      ],
    },
  ],
  idleSeconds: 8,
  lotChangeSeconds: 30,
  sensors: [
    s('rf_forward_power', 'W', [0, 3000], 2, 'rf', (x) => x.rf),
    s('rf_reflected_power', 'W', [0, 300], 0.3, 'rf', (x) => 0.6 + 0.012 * x.rf + 0.05 * x.p),
    s('dc_bias', 'V', [0, 1000], 1.5, 'rf', (x, sp) => 3 + 0.21 * x.rf - 0.002 * x.rf * (x.p - sp.p), 'magnitude of wafer self-bias'),
    s('oes_cl_837nm', 'a.u.', [0, 10000], 8, 'rf', (x) => 20 + 2.6 * x.rf + 3 * x.cl2, 'Cl emission line, plasma intensity'),
    s('endpoint_alcl_261nm', 'a.u.', [0, 5000], 6, 'film', (x) => 15 + 2100 * x.film + 0.05 * x.rf, 'AlCl emission; drops when the film clears'),
    s('chamber_pressure', 'mTorr', [0, 200], 0.1, 'p', (x, sp) => x.p + 0.02 * gasDev(x, sp)),
    s('throttle_valve_pos', '%', [0, 100], 0.3, 'valve', (x, sp) => x.valve + 0.12 * gasDev(x, sp)),
    s('cl2_flow', 'sccm', [0, 500], 0.4, 'cl2', (x) => x.cl2),
    s('bcl3_flow', 'sccm', [0, 300], 0.3, 'bcl3', (x) => x.bcl3),
    s('he_backside_pressure', 'Torr', [0, 20], 0.03, 'he', (x) => x.he),
    s('he_backside_flow', 'sccm', [0, 50], 0.05, 'he', (x) => 0.2 + 0.85 * x.he + 0.0005 * x.rf),
    s('esc_voltage', 'V', [0, 3000], 3, 'he', (x) => 140 * x.he, 'chucking voltage; He is only applied while chucked'),
    s('chuck_temp', 'C', [0, 120], 0.08, 'chuck', (x) => x.chuck + 0.004 * x.rf - 0.05 * x.he),
    s('rf_match_load_cap', '%', [0, 100], 0.2, 'rf', (x) => 30 + 0.02 * x.rf + 0.4 * x.p),
  ],
};
