/** A station of the line: `type` picks its tool model, `order` its place in process order. */
export interface StationDef {
  id: string;
  type: string;
  name: string;
  order: number;
}

export interface LineDef {
  line: string;
  stations: StationDef[];
}

/** One line of eight tools in process order. */
export const DEFAULT_LINE: LineDef = {
  line: 'fab1',
  stations: [
    { id: 'load-01', type: 'load', name: 'Load port / EFEM', order: 0 },
    { id: 'clean-01', type: 'clean', name: 'SC1 megasonic clean', order: 1 },
    { id: 'litho-01', type: 'litho', name: 'ArF immersion scanner', order: 2 },
    { id: 'etch-01', type: 'etch', name: 'Metal etch (Cl2/BCl3 ICP)', order: 3 },
    { id: 'deposition-01', type: 'deposition', name: 'PECVD oxide', order: 4 },
    { id: 'cmp-01', type: 'cmp', name: 'Copper CMP', order: 5 },
    { id: 'inspection-01', type: 'inspection', name: 'Brightfield inspection', order: 6 },
    { id: 'unload-01', type: 'unload', name: 'Unload port / EFEM', order: 7 },
  ],
};
